"""`sweep_in_flight`: trials in flight at once through a launcher that runs jobs elsewhere.

Six `trainer=smoke` trials (seeds 0..5 of the default CNN: the same six trials on both sides)
through hydra-submitit-launcher's local executor, each job a fresh Python process, with
`n_jobs=3` in flight against `n_jobs=1` (each trial launched and awaited alone, as before issue
24); the sweep's wall time, each side run twice in the order three, one, one, three. Goal <= 0.5:
half the wall time. A smoke trial's job is mostly its process start (importing torch and
Lightning), CPU-bound, so on a 2-core machine three jobs at once can at best share two cores:
the detail gives the machine's own two-process ceiling measured in the same run (2.0 on two free
cores) and the machine's load average before the run.

`sweep_in_flight_remote` measures the same with jobs that run elsewhere, as on a cluster: a
plain Hydra app (apps/waiting_job.py) whose job waits 10 s, so that the figure is the sweeper's
and the launcher's, not this machine's cores. Six trials, three in flight against one, the
whole sweep's wall time (start, plots and all). Goal <= 0.5.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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


WAITING_JOB = Path(__file__).resolve().parent / "apps" / "waiting_job.py"
JOB_SECONDS = 10


def _waiting_sweep(n_jobs: int) -> tuple[float, float]:
    """(wall seconds, seconds from the first trial's start to the last one's end) of six
    waiting jobs through submitit_local with `n_jobs` in flight."""
    import optuna

    with tempfile.TemporaryDirectory() as work:
        command = [
            sys.executable, str(WAITING_JOB), "-m", "hydra/sweeper=optuna",
            "hydra/launcher=submitit_local", f"hydra.sweeper.n_trials={N_TRIALS}",
            f"hydra.sweeper.n_jobs={n_jobs}", f"x=range(0,{N_TRIALS})",
            f"seconds={JOB_SECONDS}", "hydra.sweep.dir=sweep",
        ]  # fmt: skip
        start = time.perf_counter()
        done = subprocess.run(command, cwd=work, capture_output=True, text=True)
        seconds = time.perf_counter() - start
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
        storage = f"sqlite:///{work}/sweep/study.db"
        (name,) = optuna.get_all_study_names(storage)
        trials = optuna.load_study(study_name=name, storage=storage).get_trials()
    states = {t.state.name for t in trials}
    if len(trials) != N_TRIALS or states != {"COMPLETE"}:
        raise RuntimeError(f"expected {N_TRIALS} complete trials, got {len(trials)}: {states}")
    return seconds, _trials_span(trials)


def measure_in_flight_remote() -> Result:
    """Wall seconds of six waiting jobs with three in flight over one at a time."""
    load = os.getloadavg()[0]
    three_a, one_a, one_b, three_b = (_waiting_sweep(n) for n in (IN_FLIGHT, 1, 1, IN_FLIGHT))
    three = (three_a[0] + three_b[0]) / 2
    one = (one_a[0] + one_b[0]) / 2
    span = ((three_a[1] + three_b[1]) / 2) / ((one_a[1] + one_b[1]) / 2)
    return Result(
        "sweep_in_flight_remote",
        value=three,
        baseline=one,
        goal=0.5,
        detail=f"{N_TRIALS} jobs of a plain Hydra app waiting {JOB_SECONDS} s each (work done "
        f"elsewhere) on submitit_local, {IN_FLIGHT} in flight vs 1; {span:.2f} of the time "
        f"between the first trial's start and the last one's end; load average {load:.1f} "
        "before the run",
    )
