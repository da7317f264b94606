"""Schemas of the `optimizer` and `scheduler` options."""

from __future__ import annotations

from dataclasses import dataclass

from omegaconf import MISSING

from trainrig.config.errors import ConfigError
from trainrig.config.schema.fields import bounded
from trainrig.training.metric_names import FIT_METRICS


@dataclass
class AdamConfig:
    _target_: str = "torch.optim.Adam"
    _partial_: bool = True
    lr: float = bounded(1e-3, gt=0)
    betas: list[float] = bounded(factory=lambda: [0.9, 0.999], ge=0, lt=1)
    eps: float = bounded(1e-8, gt=0)
    weight_decay: float = bounded(0.0, ge=0)
    amsgrad: bool = False
    exempt_bias_and_norm: bool = False


@dataclass
class AdamWConfig(AdamConfig):
    _target_: str = "torch.optim.AdamW"
    weight_decay: float = bounded(0.01, ge=0)
    exempt_bias_and_norm: bool = True


@dataclass
class SGDConfig:
    _target_: str = "torch.optim.SGD"
    _partial_: bool = True
    lr: float = bounded(1e-2, gt=0)
    momentum: float = bounded(0.0, ge=0, lt=1)
    dampening: float = bounded(0.0, ge=0, lt=1)
    nesterov: bool = False
    weight_decay: float = bounded(0.0, ge=0)
    exempt_bias_and_norm: bool = False

    def __post_init__(self) -> None:
        if self.nesterov and (self.momentum == 0 or self.dampening != 0):
            raise ConfigError(
                "optimizer.nesterov=true needs optimizer.momentum > 0 and optimizer.dampening=0; "
                f"got momentum={self.momentum}, dampening={self.dampening}"
            )


@dataclass
class RMSpropConfig:
    _target_: str = "torch.optim.RMSprop"
    _partial_: bool = True
    lr: float = bounded(1e-2, gt=0)
    alpha: float = bounded(0.99, ge=0, le=1)
    eps: float = bounded(1e-8, gt=0)
    weight_decay: float = bounded(0.0, ge=0)
    momentum: float = bounded(0.0, ge=0, lt=1)
    centered: bool = False
    exempt_bias_and_norm: bool = False


@dataclass
class StepConfig:
    _target_: str = "trainrig.training.schedules.build_step"
    _partial_: bool = True
    step_size: int = bounded(10, ge=1)
    gamma: float = bounded(0.5, gt=0, le=1)


@dataclass
class MultiStepConfig:
    _target_: str = "trainrig.training.schedules.build_multistep"
    _partial_: bool = True
    milestones: list[int] = bounded(factory=lambda: [10, 20], ge=1)
    gamma: float = bounded(0.1, gt=0, le=1)

    def __post_init__(self) -> None:
        if not self.milestones or sorted(set(self.milestones)) != self.milestones:
            raise ConfigError(
                "scheduler.milestones must list increasing epochs, e.g. [15, 30]; "
                f"got {self.milestones}"
            )


@dataclass
class ExponentialConfig:
    _target_: str = "trainrig.training.schedules.build_exponential"
    _partial_: bool = True
    gamma: float = bounded(0.95, gt=0, le=1)


@dataclass
class CosineConfig:
    _target_: str = "trainrig.training.schedules.build_cosine"
    _partial_: bool = True
    eta_min: float = bounded(0.0, ge=0)


@dataclass
class WarmupCosineConfig:
    _target_: str = "trainrig.training.schedules.build_warmup_cosine"
    _partial_: bool = True
    warmup_fraction: float = bounded(0.05, gt=0, lt=1)
    start_factor: float = bounded(0.01, gt=0, le=1)
    eta_min: float = bounded(0.0, ge=0)


@dataclass
class OneCycleConfig:
    _target_: str = "trainrig.training.schedules.build_onecycle"
    _partial_: bool = True
    pct_start: float = bounded(0.3, gt=0, lt=1)
    div_factor: float = bounded(25.0, gt=0)
    final_div_factor: float = bounded(1e4, gt=0)


@dataclass
class PlateauConfig:
    _target_: str = "trainrig.training.schedules.build_plateau"
    _partial_: bool = True
    monitor: str = bounded(MISSING, choices=FIT_METRICS)
    mode: str = bounded(MISSING, choices=("min", "max"))
    factor: float = bounded(0.1, gt=0, lt=1)
    patience: int = bounded(5, ge=0)
    min_lr: float = bounded(0.0, ge=0)


# ---------------------------------------------------------------- callbacks, trainer, logger
