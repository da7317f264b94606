"""A resumed run's lr schedule follows the run's length now, not the length it was saved with.

`trainrig resume RUN trainer.max_epochs=N` lengthens a run: the schedules sized by the run's
total steps (cosine, warmup_cosine, onecycle) are built for the new length, and restoring the
saved schedule would put its old length back (`T_max`, `total_steps`), so a cosine would turn
back up after the old end. Dropping those keys from the saved state keeps the schedule's
progress (its step count) and the new length. A cosine's lr is then set, when training starts,
to the new curve's value at the current step (torch's cosine steps from the current lr, which a
finished run left at its floor): the run goes on as if it had been planned that long, the lr
rising to that curve once and falling to `eta_min` at the new last step; onecycle computes its
lr from the step and the length itself. warmup_cosine's inner cosine is not re-set (its lr
stays where it was). Unchanged length: no change.
"""

from __future__ import annotations

import math
from typing import Any

import pytorch_lightning as pl
from torch.optim.lr_scheduler import CosineAnnealingLR

# The attributes torch's schedulers hold their length in (OneCycleLR's phases end at steps).
LENGTH_KEYS = ("T_max", "total_steps", "_schedule_phases")


class ScheduleFollowsRunLength(pl.Callback):
    """Drops the schedule length from a checkpoint before Lightning restores its schedulers."""

    def on_load_checkpoint(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, checkpoint: dict[str, Any]
    ) -> None:
        for state in checkpoint.get("lr_schedulers", []):
            _drop_length(state)

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        for config in trainer.lr_scheduler_configs:
            scheduler = config.scheduler
            if isinstance(scheduler, CosineAnnealingLR):
                _cosine_at_its_step(scheduler)


def _cosine_at_its_step(scheduler: CosineAnnealingLR) -> None:
    """Set each group's lr to the cosine's closed form at its current step and length."""
    progress = min(scheduler.last_epoch, scheduler.T_max) / scheduler.T_max
    share = (1 + math.cos(math.pi * progress)) / 2
    groups = scheduler.optimizer.param_groups
    for group, base in zip(groups, scheduler.base_lrs, strict=True):
        group["lr"] = scheduler.eta_min + (base - scheduler.eta_min) * share


def _drop_length(state: dict[str, Any]) -> None:
    for key in LENGTH_KEYS:
        state.pop(key, None)
    for inner in state.get("_schedulers", []):  # SequentialLR: warmup, then the decay
        if isinstance(inner, dict):
            _drop_length(inner)
