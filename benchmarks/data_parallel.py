"""Data-parallel throughput: 2-process DDP (gloo, one thread each) against 1 process on this CPU.

`ddp_throughput`: seconds per training sample of the default experiment with `strategy=ddp
trainer.devices=2` against one process, both with 64 samples per device and per step. Each side
is the difference between a 12-epoch and a 4-epoch run of the CLI, divided by the samples of
those 8 epochs, so process start, imports, data loading and the final test cancel out. Reported,
not gated (the goal of 1.0 only says "no slower than one process"): on a 2-core machine one
process already uses both cores, so DDP mostly adds gradient all-reduces; the figure that matters
is the scaling on a machine with a GPU per process.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from result import Result

FEW, MANY = 4, 12
TRAIN_SAMPLES = 1257  # digits' training split
COMMON = [
    "trainer.accelerator=cpu", "early_stopping=none", "trainer.enable_progress_bar=false",
    "trainer.enable_model_summary=false", "data.batch_size=64", "trainer.num_sanity_val_steps=0",
]  # fmt: skip


def run_seconds(epochs: int, *overrides: str) -> float:
    """Wall seconds of one `trainrig train` of `epochs` epochs, in a fresh directory."""
    with tempfile.TemporaryDirectory() as work:
        run_dir = Path(work) / "run"
        command = [sys.executable, "-m", "trainrig", "train", *COMMON, *overrides,
                   f"trainer.max_epochs={epochs}", f"hydra.run.dir={run_dir}"]  # fmt: skip
        start = time.perf_counter()
        done = subprocess.run(command, cwd=work, capture_output=True, text=True)
        seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    return seconds


def seconds_per_sample(*overrides: str) -> float:
    """Training seconds per sample: the extra time of MANY - FEW epochs over their samples."""
    extra = run_seconds(MANY, *overrides) - run_seconds(FEW, *overrides)
    return extra / ((MANY - FEW) * TRAIN_SAMPLES)


def measure_throughput() -> Result:
    one = seconds_per_sample()
    two = seconds_per_sample("strategy=ddp", "trainer.devices=2")
    detail = (
        f"{1 / two:.0f} vs {1 / one:.0f} samples/s: 2-process DDP gives {one / two:.2f}x the "
        f"throughput of 1 process (reported, not gated)"
    )
    return Result("ddp_throughput", two, one, goal=1.0, unit="s/sample", detail=detail)
