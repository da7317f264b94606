"""Rich progress bar, redrawn at most ten times a second and without the logger's version."""

from __future__ import annotations

import time
from typing import Any

import pytorch_lightning as pl
from pytorch_lightning.callbacks import RichProgressBar


class ProgressBar(RichProgressBar):
    """Lightning's rich progress bar (epoch, step, time, metrics) that skips needless redraws.

    A small model runs a hundred steps a second; redrawing after each one would cost more than
    the step itself, so the bar is redrawn every `min_interval` seconds and after an epoch's last
    batch.
    """

    def __init__(self, min_interval: float = 0.1, **rich_options: Any) -> None:
        super().__init__(**rich_options)
        self.min_interval = min_interval
        self._last_draw = float("-inf")

    def on_train_batch_end(
        self,
        trainer: pl.Trainer,
        pl_module: pl.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
    ) -> None:
        now = time.monotonic()
        if batch_idx + 1 >= self.total_train_batches or now - self._last_draw >= self.min_interval:
            self._last_draw = now
            super().on_train_batch_end(trainer, pl_module, outputs, batch, batch_idx)

    def get_metrics(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> dict[str, Any]:
        items = super().get_metrics(trainer, pl_module)
        items.pop("v_num", None)  # one run per directory: the version says nothing
        return items
