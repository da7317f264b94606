"""Learning-rate schedule builders.

Each returns a Lightning scheduler config: the scheduler, whether it steps per optimizer step or
per epoch, and (for plateau) the metric it watches. The runner supplies `total_steps` (optimizer
steps in the whole run, from the Trainer), so no schedule length is ever written by hand.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from torch.optim import Optimizer
from torch.optim.lr_scheduler import (
    ConstantLR,
    CosineAnnealingLR,
    ExponentialLR,
    LinearLR,
    LRScheduler,
    MultiStepLR,
    OneCycleLR,
    ReduceLROnPlateau,
    SequentialLR,
    StepLR,
)

SchedulerConfig = dict[str, Any]
LOGGED_NAME = "train/lr"


def _per_step(scheduler: LRScheduler | ReduceLROnPlateau) -> SchedulerConfig:
    return {"scheduler": scheduler, "interval": "step", "name": LOGGED_NAME}


def _per_epoch(scheduler: LRScheduler | ReduceLROnPlateau) -> SchedulerConfig:
    return {"scheduler": scheduler, "interval": "epoch", "name": LOGGED_NAME}


def build_constant(optimizer: Optimizer, total_steps: int) -> SchedulerConfig:
    """No schedule (`scheduler=none`): the lr stays as set, logged once an epoch as `train/lr`
    like every schedule's, so runs with and without a schedule share one lr column."""
    return _per_epoch(ConstantLR(optimizer, factor=1.0, total_iters=0))


def build_step(
    optimizer: Optimizer, total_steps: int, step_size: int = 10, gamma: float = 0.5
) -> SchedulerConfig:
    """Step decay: multiply the lr by `gamma` every `step_size` epochs."""
    return _per_epoch(StepLR(optimizer, step_size=step_size, gamma=gamma))


def build_multistep(
    optimizer: Optimizer,
    total_steps: int,
    milestones: Sequence[int] = (10, 20),
    gamma: float = 0.1,
) -> SchedulerConfig:
    """Multiply the lr by `gamma` at each milestone epoch."""
    return _per_epoch(MultiStepLR(optimizer, milestones=list(milestones), gamma=gamma))


def build_exponential(
    optimizer: Optimizer, total_steps: int, gamma: float = 0.95
) -> SchedulerConfig:
    """Multiply the lr by `gamma` after every epoch."""
    return _per_epoch(ExponentialLR(optimizer, gamma=gamma))


def build_cosine(optimizer: Optimizer, total_steps: int, eta_min: float = 0.0) -> SchedulerConfig:
    """Cosine decay from the optimizer's lr to `eta_min` over the whole run, per optimizer step."""
    return _per_step(CosineAnnealingLR(optimizer, T_max=max(1, total_steps), eta_min=eta_min))


def build_warmup_cosine(
    optimizer: Optimizer,
    total_steps: int,
    warmup_fraction: float = 0.05,
    start_factor: float = 0.01,
    eta_min: float = 0.0,
) -> SchedulerConfig:
    """Linear warm-up from `start_factor` x lr to lr over the first `warmup_fraction` of the run,
    then cosine decay to `eta_min`; per optimizer step."""
    warmup = max(1, round(warmup_fraction * total_steps))
    ramp = LinearLR(optimizer, start_factor=start_factor, end_factor=1.0, total_iters=warmup)
    decay = CosineAnnealingLR(optimizer, T_max=max(1, total_steps - warmup), eta_min=eta_min)
    return _per_step(SequentialLR(optimizer, [ramp, decay], milestones=[warmup]))


def build_onecycle(
    optimizer: Optimizer,
    total_steps: int,
    pct_start: float = 0.3,
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
) -> SchedulerConfig:
    """One-cycle policy peaking at the optimizer's lr after `pct_start` of the run; per step."""
    peak = [group["lr"] for group in optimizer.param_groups]
    scheduler = OneCycleLR(
        optimizer,
        max_lr=peak,
        total_steps=max(1, total_steps),
        pct_start=pct_start,
        div_factor=div_factor,
        final_div_factor=final_div_factor,
    )
    return _per_step(scheduler)


def build_plateau(
    optimizer: Optimizer,
    total_steps: int,
    monitor: str,
    mode: Literal["min", "max"],
    factor: float = 0.1,
    patience: int = 5,
    min_lr: float = 0.0,
) -> SchedulerConfig:
    """Multiply the lr by `factor` when `monitor` stops improving for `patience` epochs."""
    scheduler = ReduceLROnPlateau(
        optimizer, mode=mode, factor=factor, patience=patience, min_lr=min_lr
    )
    return {**_per_epoch(scheduler), "monitor": monitor, "strict": True}
