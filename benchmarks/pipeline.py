"""Pipeline parallelism on this CPU: 2 stages (2 processes over gloo) against 1 process.

`pipeline_throughput`: seconds per training sample of the default experiment with `strategy=pipeline
trainer.devices=2` (4 micro-batches of 16) against one process, both with batches of 64. As in
`ddp_throughput`, each side is the difference between a MANY- and a FEW-epoch run of the CLI over
the samples of the extra epochs, so start-up, data loading and the final test cancel out. The
detail adds 1 process with 1 torch thread: Lightning gives each of the 2 stage processes 1 thread
(cores / processes), and on the shared 2-core machine 2 threads of one process can be much slower
than 1 (they wait for each other while other work holds a core).

`pipeline_memory`: the bytes of parameters and Adam state (weights and its two moments, 3 floats
per parameter) the largest stage holds, against the whole model's; the parameter counts are the
ones each stage process logs ("pipeline stage k of 2: ... N parameters") in a short run.

Both reported, not gated: on 2 cores one process already uses both, so 2 stages mostly add
sends and receives, and a stage waits while the other works (GPipe's bubble); the figures that
matter are a model too big for one device and a GPU per stage.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from result import Result

FEW, MANY = 2, 6
TRAIN_SAMPLES = 1257  # digits' training split
FLOAT_BYTES, ADAM_COPIES = 4, 3  # float32 weights, exp_avg, exp_avg_sq
COMMON = [
    "trainer.accelerator=cpu", "early_stopping=none", "trainer.enable_progress_bar=false",
    "trainer.enable_model_summary=false", "data.batch_size=64", "trainer.num_sanity_val_steps=0",
]  # fmt: skip
PIPELINE = ["strategy=pipeline", "trainer.devices=2", "strategy.micro_batches=4"]
STAGE_LINE = re.compile(r"pipeline stage (\d+) of \d+: layers [\d,]+, (\d+) parameters")


def _train(work: Path, *overrides: str, threads: int | None = None) -> float:
    """Wall seconds of one `trainrig train` in `work`/run (with `threads` torch threads)."""
    command = [sys.executable, "-m", "trainrig", "train", *COMMON, *overrides,
               f"hydra.run.dir={work / 'run'}"]  # fmt: skip
    start = time.perf_counter()
    env = {**os.environ, **({"OMP_NUM_THREADS": str(threads)} if threads else {})}
    done = subprocess.run(command, cwd=work, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    return seconds


def seconds_per_sample(*overrides: str, threads: int | None = None) -> float:
    """Training seconds per sample: the extra time of MANY - FEW epochs over their samples."""
    seconds = {}
    for epochs in (MANY, FEW):
        with tempfile.TemporaryDirectory() as work:
            run = (f"trainer.max_epochs={epochs}", *overrides)
            seconds[epochs] = _train(Path(work), *run, threads=threads)
    return (seconds[MANY] - seconds[FEW]) / ((MANY - FEW) * TRAIN_SAMPLES)


def measure_throughput() -> Result:
    one = seconds_per_sample()
    single = seconds_per_sample(threads=1)  # as each stage process runs (Lightning sets it)
    two = seconds_per_sample(*PIPELINE)
    detail = (
        f"{1 / two:.0f} vs {1 / one:.0f} samples/s: 2 pipeline stages give {one / two:.2f}x the "
        f"throughput of 1 process with torch's threads; {1 / single:.0f} samples/s for 1 process "
        "with 1 thread, as each stage has (reported, not gated)"
    )
    return Result("pipeline_throughput", two, one, goal=1.0, unit="s/sample", detail=detail)


def measure_memory() -> Result:
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        _train(work, *PIPELINE, "trainer=smoke", "trainer.limit_train_batches=2")
        logs = "".join(path.read_text() for path in (work / "run").glob("train*.log"))
        whole = int(json.loads((work / "run" / "metrics.json").read_text())["model/parameters"])
    stages = {int(m[1]): int(m[2]) for m in STAGE_LINE.finditer(logs)}
    if sorted(stages) != [0, 1] or sum(stages.values()) != whole:
        raise RuntimeError(f"stage parameter counts {stages} do not add up to {whole}")
    per_process = [count * FLOAT_BYTES * ADAM_COPIES for _, count in sorted(stages.items())]
    model = whole * FLOAT_BYTES * ADAM_COPIES
    detail = (
        f"parameters + Adam state per process {', '.join(f'{b:,} B' for b in per_process)} "
        f"against {model:,} B for the whole model (largest stage / whole; reported, not gated)"
    )
    return Result("pipeline_memory", max(per_process), model, 1.0, unit="B", detail=detail)
