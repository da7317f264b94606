"""`sweep_in_flight`: trials in flight at once through a launcher that runs jobs elsewhere.

Six `trainer=smoke` trials (seeds 0..5 of the default CNN: the same six trials on both sides)
through hydra-submitit-launcher's local executor, each job a fresh Python process, with
`n_jobs=3` in flight against `n_jobs=1` (each trial launched and awaited alone, as before issue
24); the sweep's wall time, each side run twice in the order three, one, one, three. Goal <= 0.5:
half the wall time. A smoke trial's job is mostly its process start (importing torch and
Lightning), CPU-bound, so on a 2-core machine three jobs at once can at best share two cores:
the detail gives the machine's own two-process ceiling measured in the same run (2.0 on two free
cores) and the machine's load average before the run.
"""

from __future__ import annotations

import os
import statistics

from result import Result
from sweeps import SAME_TRIALS, _trials_span, parallel_ceiling, sweep

N_TRIALS = 6
IN_FLIGHT = 3
SIX_TRIALS = [
    *SAME_TRIALS[:3], f"hydra.sweeper.n_trials={N_TRIALS}", f"seed=range(0,{N_TRIALS})",
    "hydra/launcher=submitit_local", "trainer=smoke",
]  # fmt: skip


def measure_in_flight() -> Result:
    """Wall seconds of the six trials with three in flight over one at a time."""
    load = os.getloadavg()[0]
    ceiling = parallel_ceiling()
    three_a, one_a, one_b, three_b = (
        sweep.__wrapped__(*SIX_TRIALS, f"hydra.sweeper.n_jobs={n_jobs}")
        for n_jobs in (IN_FLIGHT, 1, 1, IN_FLIGHT)
    )
    for run in (three_a, one_a, one_b, three_b):
        assert run.summary["trials"] == {"COMPLETE": N_TRIALS}, run.summary
    three = (three_a.seconds + three_b.seconds) / 2
    one = (one_a.seconds + one_b.seconds) / 2
    span = statistics.mean(
        _trials_span(t.trials) / _trials_span(o.trials)
        for o, t in ((one_a, three_a), (one_b, three_b))
    )
    return Result(
        "sweep_in_flight",
        value=three,
        baseline=one,
        goal=0.5,
        detail=f"{N_TRIALS} smoke trials on submitit_local, {IN_FLIGHT} in flight vs 1; "
        f"{span:.2f} of the time between the first trial's start and the last one's end; "
        f"two-process ceiling {ceiling:.2f}x; load average {load:.1f} before the run",
    )
