"""Learning-rate schedule builders.

Each returns a Lightning scheduler config: the scheduler, whether it steps per optimizer step or
per epoch, and (for plateau) the metric it watches. The runner supplies `total_steps` (optimizer
steps in the whole run, from the Trainer), so no schedule length is ever written by hand.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any, Literal

from annotated_types import Ge, Gt, Le, Lt

from trainrig.config.errors import ConfigError
from trainrig.config.signature import option

if TYPE_CHECKING:
    from torch.optim import Optimizer
    from torch.optim.lr_scheduler import LRScheduler, ReduceLROnPlateau

SchedulerConfig = dict[str, Any]
Factor = Annotated[float, Gt(0), Le(1)]
Fraction = Annotated[float, Gt(0), Lt(1)]
NonNegative = Annotated[float, Ge(0)]
Metric = str  # a logged metric (val/acc, ...): checked against the task's names
LOGGED_NAME = "train/lr"


def _per_step(scheduler: LRScheduler | ReduceLROnPlateau) -> SchedulerConfig:
    return {"scheduler": scheduler, "interval": "step", "name": LOGGED_NAME}


def _per_epoch(scheduler: LRScheduler | ReduceLROnPlateau) -> SchedulerConfig:
    return {"scheduler": scheduler, "interval": "epoch", "name": LOGGED_NAME}


def build_constant(optimizer: Optimizer, total_steps: int, /) -> SchedulerConfig:
    """No schedule (`scheduler=none`): the lr stays as set, logged once an epoch as `train/lr`
    like every schedule's, so runs with and without a schedule share one lr column."""
    from torch.optim.lr_scheduler import ConstantLR

    return _per_epoch(ConstantLR(optimizer, factor=1.0, total_iters=0))


@option("scheduler", partial=True)
def build_step(
    optimizer: Optimizer,
    total_steps: int,
    /,
    step_size: Annotated[int, Ge(1)] = 10,
    gamma: Factor = 0.5,
) -> SchedulerConfig:
    """Step decay: multiply the lr by `gamma` every `step_size` epochs."""
    from torch.optim.lr_scheduler import StepLR

    return _per_epoch(StepLR(optimizer, step_size=step_size, gamma=gamma))


def milestones_increase(milestones: Sequence[int], **_: Any) -> None:
    """Milestones are increasing epochs."""
    if not milestones or sorted(set(milestones)) != list(milestones):
        raise ConfigError(
            "scheduler.milestones must list increasing epochs, e.g. [15, 30]; "
            f"got {list(milestones)}"
        )


@option("scheduler", partial=True, rule=milestones_increase)
def build_multistep(
    optimizer: Optimizer,
    total_steps: int,
    /,
    milestones: Sequence[Annotated[int, Ge(1)]] = (10, 20),
    gamma: Factor = 0.1,
) -> SchedulerConfig:
    """Multiply the lr by `gamma` at each milestone epoch."""
    from torch.optim.lr_scheduler import MultiStepLR

    return _per_epoch(MultiStepLR(optimizer, milestones=list(milestones), gamma=gamma))


@option("scheduler", partial=True)
def build_exponential(
    optimizer: Optimizer, total_steps: int, /, gamma: Factor = 0.95
) -> SchedulerConfig:
    """Multiply the lr by `gamma` after every epoch."""
    from torch.optim.lr_scheduler import ExponentialLR

    return _per_epoch(ExponentialLR(optimizer, gamma=gamma))


@option("scheduler", partial=True)
def build_cosine(
    optimizer: Optimizer, total_steps: int, /, eta_min: float = 0.0
) -> SchedulerConfig:
    """Cosine decay from the optimizer's lr to `eta_min` over the whole run, per optimizer step."""
    from torch.optim.lr_scheduler import CosineAnnealingLR

    return _per_step(CosineAnnealingLR(optimizer, T_max=max(1, total_steps), eta_min=eta_min))


@option("scheduler", partial=True)
def build_warmup_cosine(
    optimizer: Optimizer,
    total_steps: int,
    /,
    warmup_fraction: Fraction = 0.05,
    start_factor: Factor = 0.01,
    eta_min: NonNegative = 0.0,
) -> SchedulerConfig:
    """Linear warm-up from `start_factor` x lr to lr over the first `warmup_fraction` of the run,
    then cosine decay to `eta_min`; per optimizer step."""
    from torch.optim.lr_scheduler import CosineAnnealingLR, LinearLR, SequentialLR

    warmup = max(1, round(warmup_fraction * total_steps))
    ramp = LinearLR(optimizer, start_factor=start_factor, end_factor=1.0, total_iters=warmup)
    decay = CosineAnnealingLR(optimizer, T_max=max(1, total_steps - warmup), eta_min=eta_min)
    return _per_step(SequentialLR(optimizer, [ramp, decay], milestones=[warmup]))


@option("scheduler", partial=True)
def build_onecycle(
    optimizer: Optimizer,
    total_steps: int,
    /,
    pct_start: Fraction = 0.3,
    div_factor: Annotated[float, Gt(0)] = 25.0,
    final_div_factor: Annotated[float, Gt(0)] = 1e4,
) -> SchedulerConfig:
    """One-cycle policy peaking at the optimizer's lr after `pct_start` of the run; per step."""
    from torch.optim.lr_scheduler import OneCycleLR

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


@option("scheduler", partial=True)
def build_plateau(
    optimizer: Optimizer,
    total_steps: int,
    /,
    monitor: Metric,
    mode: Literal["min", "max"],
    factor: Fraction = 0.1,
    patience: Annotated[int, Ge(0)] = 5,
    min_lr: NonNegative = 0.0,
) -> SchedulerConfig:
    """Multiply the lr by `factor` when `monitor` stops improving for `patience` epochs."""
    from torch.optim.lr_scheduler import ReduceLROnPlateau

    scheduler = ReduceLROnPlateau(
        optimizer, mode=mode, factor=factor, patience=patience, min_lr=min_lr
    )
    return {**_per_epoch(scheduler), "monitor": monitor, "strict": True}
