"""A training loss that is NaN or infinite stops the run at that step (`on_nonfinite_loss`).

Such a run would otherwise go on to the end with NaN weights and report chance figures as if
it had trained; a sweep would count it complete. The check reads the loss each step (one
device synchronization per step on a GPU); `on_nonfinite_loss=continue` turns it off.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pytorch_lightning as pl
import torch
from pytorch_lightning.callbacks import Callback

from trainrig.config.errors import RunError


class LossDiverged(RunError):
    """The training loss stopped being a finite number."""


def _loss(outputs: Any) -> torch.Tensor | None:
    """The loss `training_step` returned (a tensor, or a mapping's `loss`); None without one."""
    if isinstance(outputs, Mapping):
        outputs = outputs.get("loss")
    return outputs if isinstance(outputs, torch.Tensor) and outputs.numel() == 1 else None


class StopOnNonFiniteLoss(Callback):
    """Raises LossDiverged at the first training step whose loss is not finite."""

    def __init__(self) -> None:
        self.last_finite: float | None = None

    def on_train_batch_end(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any, *args: Any
    ) -> None:
        """Check this step's loss; remember it while it is finite."""
        loss = _loss(outputs)
        if loss is None:
            return
        value = float(loss.detach())
        if math.isfinite(value):
            self.last_finite = value
            return
        last = f"{self.last_finite:.4g}" if self.last_finite is not None else "none yet"
        raise LossDiverged(
            f"training loss is {value} at epoch {trainer.current_epoch}, step "
            f"{trainer.global_step} (last finite loss: {last}); lower optimizer.lr, clip the "
            "gradients (trainer.gradient_clip_val=1.0), or on_nonfinite_loss=continue to train on"
        )
