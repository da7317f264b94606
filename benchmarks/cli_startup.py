"""`cli_startup`: how long `trainrig train --cfg job` takes, against importing pytorch_lightning.

Printing the composed config should never import the training stack; the goal holds the CLI to a
quarter of what `import pytorch_lightning` alone costs.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

from result import Result

REPO_ROOT = Path(__file__).resolve().parent.parent
COMMAND = [sys.executable, "-m", "trainrig", "train", "--cfg", "job"]
BASELINE = [sys.executable, "-c", "import pytorch_lightning"]
REPEATS = 5
GOAL = 0.25


def wall_time(command: list[str]) -> float:
    """Seconds `command` takes to run to completion from the repository root; stdout is dropped."""
    start = time.perf_counter()
    done = subprocess.run(
        command, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {done.returncode}:\n{done.stderr}")
    return elapsed


def measure() -> Result:
    """Median of 5 interleaved runs of each command, after one warm-up run of each."""
    wall_time(COMMAND)
    wall_time(BASELINE)
    runs: list[float] = []
    baselines: list[float] = []
    for _ in range(REPEATS):
        runs.append(wall_time(COMMAND))
        baselines.append(wall_time(BASELINE))
    return Result(
        benchmark="cli_startup",
        value=statistics.median(runs),
        baseline=statistics.median(baselines),
        goal=GOAL,
        detail=f"{REPEATS} interleaved runs, 1 warm-up",
    )
