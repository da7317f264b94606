"""Schemas of early stopping, trainer, logger, strategy and the top-level keys."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from omegaconf import MISSING

from trainrig.config.errors import ConfigError
from trainrig.config.optional_packages import require_extra
from trainrig.config.schema.fields import bounded
from trainrig.training.metric_names import FIT_METRICS, OBJECTIVES


@dataclass
class EarlyStoppingConfig:
    _target_: str = "trainrig.training.callbacks.early_stopping.EarlyStopping"
    monitor: str = bounded(MISSING, choices=FIT_METRICS)
    mode: str = bounded(MISSING, choices=("min", "max"))
    patience: int = bounded(3, ge=1)
    min_delta: float = bounded(0.0, ge=0)
    restore_best: bool = False
    check_finite: bool = True
    verbose: bool = False


PRECISIONS = ("64-true", "64", "32-true", "32", "16-mixed", "bf16-mixed", "16-true", "bf16-true")
ACCELERATORS = ("auto", "cpu", "gpu", "cuda", "mps", "tpu")


@dataclass
class TrainerConfig:
    _target_: str = "pytorch_lightning.Trainer"
    max_epochs: int = bounded(10, ge=1)
    max_steps: int = bounded(-1, ge=-1)
    min_epochs: Optional[int] = bounded(None, ge=0)
    max_time: Optional[str] = None
    accelerator: str = bounded("auto", choices=ACCELERATORS)
    devices: Any = 1
    num_nodes: int = bounded(1, ge=1)
    precision: str = bounded("32-true", choices=PRECISIONS)
    deterministic: bool = False
    benchmark: Optional[bool] = None
    sync_batchnorm: bool = False
    gradient_clip_val: Optional[float] = bounded(None, ge=0)
    gradient_clip_algorithm: str = bounded("norm", choices=("norm", "value"))
    accumulate_grad_batches: int = bounded(1, ge=1)
    check_val_every_n_epoch: int = bounded(1, ge=1)
    val_check_interval: Any = None
    log_every_n_steps: int = bounded(50, ge=1)
    limit_train_batches: Any = bounded(None, gt=0)
    limit_val_batches: Any = bounded(None, ge=0)
    limit_test_batches: Any = bounded(None, gt=0)
    num_sanity_val_steps: int = bounded(2, ge=-1)
    enable_progress_bar: bool = True
    enable_model_summary: bool = True


@dataclass
class CSVLoggerConfig:
    _target_: str = "pytorch_lightning.loggers.CSVLogger"
    name: str = "csv"
    version: Optional[str] = None
    flush_logs_every_n_steps: int = bounded(100, ge=1)


@dataclass
class NamedStrategyConfig:
    _target_: str = "trainrig.distributed.strategies.named_strategy"
    name: str = bounded("auto", choices=("auto", "ddp", "ddp_spawn"))


@dataclass
class DDPConfig:
    _target_: str = "trainrig.distributed.strategies.build_ddp"
    start_method: str = bounded("popen", choices=("popen", "spawn", "fork"))
    find_unused_parameters: bool = False
    process_group_backend: Optional[str] = bounded(None, choices=("gloo", "nccl"))
    timeout_minutes: float = bounded(30.0, gt=0)


@dataclass
class FSDPConfig:
    _target_: str = "trainrig.distributed.strategies.build_fsdp"
    sharding_strategy: str = bounded(
        "FULL_SHARD", choices=("FULL_SHARD", "SHARD_GRAD_OP", "NO_SHARD", "HYBRID_SHARD")
    )
    cpu_offload: bool = False
    activation_checkpointing: bool = False
    min_params_to_wrap: int = bounded(100_000, ge=1)


@dataclass
class DeepSpeedConfig:
    _target_: str = "trainrig.distributed.strategies.build_deepspeed"
    stage: int = bounded(2, choices=(1, 2, 3))
    offload_optimizer: bool = False
    offload_parameters: bool = False

    def __post_init__(self) -> None:
        require_extra("deepspeed", "deepspeed", "strategy=deepspeed")
        if self.offload_parameters and self.stage != 3:
            raise ConfigError(
                "strategy.offload_parameters needs ZeRO stage 3 (parameters are sharded only "
                f"there); got strategy.stage={self.stage}: set strategy.stage=3"
            )


@dataclass
class ModelParallelConfig:
    _target_: str = "trainrig.distributed.strategies.build_model_parallel"
    tensor_parallel_size: Any = bounded("auto", ge=1)
    data_parallel_size: Any = bounded("auto", ge=1)

    def __post_init__(self) -> None:
        for key in ("tensor_parallel_size", "data_parallel_size"):
            value = getattr(self, key)
            if value != "auto" and not isinstance(value, int):
                raise ConfigError(f"strategy.{key} is 'auto' or a number of devices; got {value!r}")


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
