"""Pipeline parallelism on this CPU: 2 stages (2 processes over gloo) against 1 process.

`pipeline_throughput`: seconds per training sample of the default experiment with `strategy=pipeline
trainer.devices=2` (4 micro-batches of 16) against one process, both with batches of 64. As in
`ddp_throughput`, each side is the difference between a MANY- and a FEW-epoch run of the CLI over
the samples of the extra epochs, so start-up, data loading and the final test cancel out. The
detail adds 1 process with 1 torch thread: Lightning gives each of the 2 stage processes 1 thread
(cores / processes), and on the shared 2-core machine 2 threads of one process can be much slower
than 1 (they wait for each other while other work holds a core).

`pipeline_memory`: the measured peak resident memory (`ru_maxrss`) of each process of a 2-stage run
against 1 process training the whole model, both a smoke run (2 epochs of 3 batches of 64, Adam) of
an MLP [4096, 4096, 4096] (34M parameters: 134 MB of weights, so the model is a visible share of a
process's memory next to Python, torch and Lightning). A callback (peak_memory.py, copied into the
run's folder as a project module) records each process's peak when training starts, after the
first training step and at the end of fit and test; the value is the largest stage's peak over the
whole run, the detail gives the first step's too, and the parameter counts each stage logs.

Both reported, not gated: on 2 cores one process already uses both, so 2 stages mostly add
sends and receives, and a stage waits while the other works (GPipe's bubble); the figures that
matter are a model too big for one device and a GPU per stage.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from result import Result

FEW, MANY = 2, 6
TRAIN_SAMPLES = 1257  # digits' training split
COMMON = [
    "trainer.accelerator=cpu", "early_stopping=none", "trainer.enable_progress_bar=false",
    "trainer.enable_model_summary=false", "data.batch_size=64", "trainer.num_sanity_val_steps=0",
]  # fmt: skip
PIPELINE = ["strategy=pipeline", "trainer.devices=2", "strategy.micro_batches=4"]
WIDE = ["trainer=smoke", "model=mlp", "model.hidden_sizes=[4096,4096,4096]"]
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


def _peaks(work: Path, *overrides: str) -> list[dict[str, int]]:
    """Each process's peaks (bytes, by moment) in a smoke run of the wide MLP in `work`."""
    shutil.copy(Path(__file__).with_name("peak_memory.py"), work)
    folder = work / "peaks"
    callback = f"+callbacks.peak={{_target_:peak_memory.PeakMemory,folder:'{folder}'}}"
    _train(work, *WIDE, *overrides, callback)
    return [json.loads(path.read_text()) for path in sorted(folder.glob("rank*.json"))]


def measure_memory() -> Result:
    with tempfile.TemporaryDirectory() as one_folder, tempfile.TemporaryDirectory() as two_folder:
        (one,) = _peaks(Path(one_folder))
        stages = _peaks(Path(two_folder), *PIPELINE)
        logs = "".join(p.read_text() for p in (Path(two_folder) / "run").glob("train*.log"))
    counts = {int(m[1]): int(m[2]) for m in STAGE_LINE.finditer(logs)}
    if len(stages) != 2 or sorted(counts) != [0, 1]:
        raise RuntimeError(f"expected 2 stages' peaks and parameter counts: {stages}, {counts}")
    largest = max(max(stage.values()) for stage in stages)
    step = max(stage["first_step"] for stage in stages)
    mib = 2**20
    detail = (
        f"peak RSS per stage {', '.join(f'{max(s.values()) / mib:,.0f}' for s in stages)} MiB "
        f"against {max(one.values()) / mib:,.0f} MiB for 1 process; after the first training "
        f"step {step / mib:,.0f} vs {one['first_step'] / mib:,.0f} MiB "
        f"({step / one['first_step']:.2f}); at train start {stages[0]['train_start'] / mib:,.0f} "
        f"vs {one['train_start'] / mib:,.0f} MiB; stage parameters "
        f"{', '.join(f'{c:,}' for _, c in sorted(counts.items()))} (reported, not gated)"
    )
    return Result("pipeline_memory", largest, max(one.values()), 1.0, unit="B", detail=detail)
