"""A callback the pipeline_memory benchmark adds to its runs (copied into the run's folder, a
project module there): each process writes its measured peak memory to FOLDER/rank{k}.json.
CPU only (the benchmark trains on the CPU; 2 stages on GPUs need 2 GPUs)."""

from __future__ import annotations

import json
import resource
from pathlib import Path

import pytorch_lightning as pl


class PeakMemory(pl.Callback):
    """The process's peak resident memory so far (`ru_maxrss`, kibibytes on Linux): when
    training starts (the model built and, in a pipeline, cut), when the first training batch
    ends (a step's weights, gradients, optimizer state and activations), and at each teardown
    (fit, test: checkpoints written, the test run)."""

    def __init__(self, folder: str) -> None:
        self.folder = Path(folder)
        self.peaks: dict[str, int] = {}  # bytes, by moment

    def _record(self, trainer: pl.Trainer, moment: str) -> None:
        self.peaks[moment] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / f"rank{trainer.global_rank}.json").write_text(json.dumps(self.peaks))

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._record(trainer, "train_start")

    def on_train_batch_end(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, *args: object
    ) -> None:
        if "first_step" not in self.peaks:
            self._record(trainer, "first_step")

    def teardown(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        self._record(trainer, stage)
