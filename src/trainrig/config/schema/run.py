"""Schemas of the top-level keys and the `checkpoint` and `lr_find` nodes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from omegaconf import MISSING

from trainrig.config.errors import ConfigError
from trainrig.config.schema.fields import bounded
from trainrig.training.metric_names import FIT_METRICS, OBJECTIVES

# ---------------------------------------------------------------- the whole config


@dataclass
class CheckpointConfig:
    monitor: str = bounded(MISSING, choices=FIT_METRICS)
    mode: str = bounded(MISSING, choices=("min", "max"))


@dataclass
class LrFindConfig:
    min_lr: float = bounded(1e-6, gt=0)
    max_lr: float = bounded(1.0, gt=0)
    num_training: int = bounded(100, ge=2)
    mode: str = bounded("exponential", choices=("exponential", "linear"))

    def __post_init__(self) -> None:
        if self.min_lr >= self.max_lr:
            raise ConfigError(
                f"lr_find.min_lr must be below lr_find.max_lr; got {self.min_lr} >= {self.max_lr}"
            )


@dataclass
class TrainTopLevel:
    task_name: str = "train"
    seed: int = bounded(42, ge=0)
    # auto: continue from the run directory's checkpoints/last.ckpt, if there is one.
    resume: Optional[str] = bounded(None, choices=("auto",))
    # One metric, or a list of them for a multi-objective sweep (e.g. [val/acc, model/parameters]);
    # compression/* figures need a `compression` option (checked in schema/cross_group.py).
    optimized_metric: Any = "val/acc"
    batch_size_scope: str = bounded("per_device", choices=("per_device", "global"))
    lr_scaling: str = bounded("none", choices=("none", "linear", "sqrt"))
    # true: `_target_` may name any callable, not only trainrig's and its libraries' (a config
    # you did not write could then run its own code; see target_allowlist.py).
    allow_any_target: bool = False

    def __post_init__(self) -> None:
        if self.lr_scaling != "none" and self.batch_size_scope == "global":
            raise ConfigError(
                f"lr_scaling={self.lr_scaling} scales the lr with the global batch, but "
                "batch_size_scope=global keeps it at data.batch_size whatever the number of "
                "devices: set lr_scaling=none, or batch_size_scope=per_device"
            )
        wanted = self.optimized_metric
        names: list[Any] = [wanted] if isinstance(wanted, str) else list(wanted or [None])
        for name in names:
            if name not in OBJECTIVES:
                raise ConfigError(
                    f"optimized_metric: {name!r} is not allowed; choose one of "
                    f"{', '.join(OBJECTIVES)}, or a list of them"
                )


@dataclass
class EvalTopLevel:
    task_name: str = "eval"
    ckpt_path: str = MISSING
    # true: a checkpoint holding pickled Python objects is loaded anyway (running any code it
    # holds), with a warning; false: tensors and plain data only (torch.load(weights_only=True)).
    trust_checkpoint: bool = False
    allow_any_target: bool = False  # as in TrainTopLevel; also checks the checkpoint's config


@dataclass
class CompressTopLevel:
    task_name: str = "compress"
    ckpt_path: str = MISSING
    # true: a checkpoint holding pickled Python objects is loaded anyway (running any code it
    # holds), with a warning; false: tensors and plain data only (torch.load(weights_only=True)).
    trust_checkpoint: bool = False
    allow_any_target: bool = False  # as in TrainTopLevel; also checks the checkpoint's config
