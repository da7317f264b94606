"""Structured-config schemas: the keys, types, defaults and ranges of every built-in option.

A group's node is checked against the schema of its `_target_`, so a typo, a wrong type or a value
out of range fails here, before data is loaded or torch is imported. Nodes with a `_target_` that
trainrig does not know (a user's own builder) are passed through unchecked; an empty node means the
group is switched off (`scheduler=none`).
"""

from __future__ import annotations

from dataclasses import MISSING as NO_DEFAULT
from dataclasses import dataclass, field
from typing import Any, Optional

from omegaconf import MISSING

from trainrig.errors import ConfigError
from trainrig.metric_names import FINAL_METRICS, FIT_METRICS


def bounded(
    default: Any = NO_DEFAULT,
    *,
    factory: Any = NO_DEFAULT,
    gt: Optional[float] = None,
    ge: Optional[float] = None,
    lt: Optional[float] = None,
    le: Optional[float] = None,
    choices: tuple[Any, ...] | None = None,
) -> Any:
    """A dataclass field whose value (or each item of a list value) must lie in a range or set."""
    metadata = {"gt": gt, "ge": ge, "lt": lt, "le": le, "choices": choices}
    if factory is not NO_DEFAULT:
        return field(default_factory=factory, metadata=metadata)
    return field(default=default, metadata=metadata)


# ---------------------------------------------------------------- data and augmentation


def check_given_stats(mean: Optional[list[float]], std: Optional[list[float]]) -> None:
    """Given normalization statistics come as a pair of equally long lists."""
    if (mean is None) != (std is None) or (mean is not None and len(mean) != len(std or [])):
        raise ConfigError(
            "data.mean and data.std go together, one value per channel (or feature), e.g. "
            f"data.mean=[0.5] data.std=[0.25]; got mean={mean}, std={std}"
        )


def check_fractions(val_fraction: float, test_fraction: float) -> None:
    """Held-out fractions leave something to train on."""
    if val_fraction + test_fraction >= 1:
        raise ConfigError(
            "data.val_fraction + data.test_fraction must be < 1 so some data is left to "
            f"train on; got {val_fraction} + {test_fraction}"
        )


@dataclass
class DigitsConfig:
    _target_: str = "trainrig.data.digits.build_digits"
    batch_size: int = bounded(64, ge=1)
    val_fraction: float = bounded(0.15, gt=0, lt=1)
    test_fraction: float = bounded(0.15, gt=0, lt=1)
    rescale: float = bounded(1 / 16, gt=0)
    normalize: bool = True
    mean: Optional[list[float]] = None
    std: Optional[list[float]] = bounded(None, gt=0)
    split_seed: int = bounded(0, ge=0)

    def __post_init__(self) -> None:
        check_given_stats(self.mean, self.std)
        check_fractions(self.val_fraction, self.test_fraction)


@dataclass
class TorchvisionDatasetConfig:
    _target_: str = "trainrig.data.torchvision_datasets.build_torchvision_dataset"
    name: str = bounded(MISSING, choices=("mnist", "fashion_mnist", "cifar10"))
    root: str = "data"
    download: bool = True
    batch_size: int = bounded(128, ge=1)
    val_fraction: float = bounded(0.1, gt=0, lt=1)
    rescale: float = bounded(1 / 255, gt=0)
    normalize: bool = True
    mean: Optional[list[float]] = None
    std: Optional[list[float]] = bounded(None, gt=0)
    split_seed: int = bounded(0, ge=0)

    def __post_init__(self) -> None:
        check_given_stats(self.mean, self.std)


@dataclass
class CSVConfig:
    _target_: str = "trainrig.data.csv_table.build_csv"
    path: str = MISSING
    label_column: str = MISSING
    feature_columns: Optional[list[str]] = None
    delimiter: str = ","
    batch_size: int = bounded(64, ge=1)
    val_fraction: float = bounded(0.15, gt=0, lt=1)
    test_fraction: float = bounded(0.15, gt=0, lt=1)
    normalize: bool = True
    mean: Optional[list[float]] = None
    std: Optional[list[float]] = bounded(None, gt=0)
    split_seed: int = bounded(0, ge=0)

    def __post_init__(self) -> None:
        check_given_stats(self.mean, self.std)
        check_fractions(self.val_fraction, self.test_fraction)


@dataclass
class ImageFolderConfig:
    _target_: str = "trainrig.data.image_folder.build_image_folder"
    root: str = MISSING
    image_size: list[int] = bounded(factory=lambda: [32, 32], ge=1)
    color_mode: str = bounded("rgb", choices=("rgb", "grayscale"))
    batch_size: int = bounded(32, ge=1)
    val_fraction: float = bounded(0.15, gt=0, lt=1)
    test_fraction: float = bounded(0.15, gt=0, lt=1)
    rescale: float = bounded(1 / 255, gt=0)
    normalize: bool = True
    mean: Optional[list[float]] = None
    std: Optional[list[float]] = bounded(None, gt=0)
    split_seed: int = bounded(0, ge=0)
    storage: str = bounded("auto", choices=("auto", "memory", "stream"))
    memory_limit_mb: float = bounded(2048.0, gt=0)
    num_workers: int = bounded(2, ge=0)

    def __post_init__(self) -> None:
        check_given_stats(self.mean, self.std)
        check_fractions(self.val_fraction, self.test_fraction)
        if len(self.image_size) != 2:
            raise ConfigError(f"data.image_size is [height, width]; got {self.image_size}")


def check_range_pair(key: str, pair: Optional[list[float]]) -> None:
    """A [low, high] pair with low <= high."""
    if pair is not None and (len(pair) != 2 or pair[0] > pair[1]):
        raise ConfigError(f"{key} must be [low, high] with low <= high; got {pair}")


@dataclass
class AugmentationConfig:
    _target_: str = "trainrig.augmentation.build_augmentation"
    _partial_: bool = True
    rotation_range: float = bounded(0.0, ge=0, le=180)
    width_shift_range: float = bounded(0.0, ge=0, lt=1)
    height_shift_range: float = bounded(0.0, ge=0, lt=1)
    zoom_range: Any = bounded(0.0, ge=0)
    shear_range: float = bounded(0.0, ge=0, lt=90)
    fill_mode: str = bounded("nearest", choices=("constant", "nearest", "reflect"))
    horizontal_flip: bool = False
    vertical_flip: bool = False
    brightness_range: Optional[list[float]] = bounded(None, ge=0)
    crop_padding: int = bounded(0, ge=0)
    color_jitter: float = bounded(0.0, ge=0, le=1)
    erasing_probability: float = bounded(0.0, ge=0, le=1)
    mixup_alpha: float = bounded(0.0, ge=0)
    cutmix_alpha: float = bounded(0.0, ge=0)
    backend: str = bounded("batched", choices=("batched", "per_sample"))

    def __post_init__(self) -> None:
        check_range_pair("augmentation.brightness_range", self.brightness_range)
        zoom = self.zoom_range
        if isinstance(zoom, list):
            check_range_pair("augmentation.zoom_range", zoom)
        elif not isinstance(zoom, int | float) or zoom >= 1:
            raise ConfigError(
                f"augmentation.zoom_range is a fraction below 1 (0.1 means [0.9, 1.1]) or a "
                f"[low, high] pair; got {zoom}"
            )


# ---------------------------------------------------------------- models


@dataclass
class CNNConfig:
    _target_: str = "trainrig.models.cnn.build_cnn"
    _partial_: bool = True
    channels: list[int] = bounded(factory=lambda: [32, 64, 128], ge=1)
    kernel_size: int = bounded(3, ge=1)
    batch_norm: bool = True
    dropout: float = bounded(0.0, ge=0, lt=1)
    pooling: str = bounded("max", choices=("max", "avg"))

    def __post_init__(self) -> None:
        if not self.channels:
            raise ConfigError(
                "model.channels must list at least one conv block width, e.g. [32, 64]"
            )


@dataclass
class ResNetConfig:
    _target_: str = "trainrig.models.resnet.build_resnet"
    _partial_: bool = True
    width: int = bounded(32, ge=1)
    stages: int = bounded(3, ge=1, le=6)
    blocks_per_stage: int = bounded(2, ge=1)
    batch_norm: bool = True


@dataclass
class TorchvisionConfig:
    _target_: str = "trainrig.models.torchvision_models.build_torchvision"
    _partial_: bool = True
    name: str = MISSING
    weights_path: Optional[str] = None


ACTIVATIONS = ("relu", "gelu", "silu", "tanh", "leaky_relu")


@dataclass
class MLPConfig:
    _target_: str = "trainrig.models.mlp.build_mlp"
    _partial_: bool = True
    hidden_sizes: list[int] = bounded(factory=lambda: [256, 128], ge=1)
    activation: str = bounded("relu", choices=ACTIVATIONS)
    batch_norm: bool = True
    dropout: float = bounded(0.0, ge=0, lt=1)


# ---------------------------------------------------------------- optimizers and schedules


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
    _target_: str = "trainrig.schedules.build_step"
    _partial_: bool = True
    step_size: int = bounded(10, ge=1)
    gamma: float = bounded(0.5, gt=0, le=1)


@dataclass
class MultiStepConfig:
    _target_: str = "trainrig.schedules.build_multistep"
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
    _target_: str = "trainrig.schedules.build_exponential"
    _partial_: bool = True
    gamma: float = bounded(0.95, gt=0, le=1)


@dataclass
class CosineConfig:
    _target_: str = "trainrig.schedules.build_cosine"
    _partial_: bool = True
    eta_min: float = bounded(0.0, ge=0)


@dataclass
class WarmupCosineConfig:
    _target_: str = "trainrig.schedules.build_warmup_cosine"
    _partial_: bool = True
    warmup_fraction: float = bounded(0.05, gt=0, lt=1)
    start_factor: float = bounded(0.01, gt=0, le=1)
    eta_min: float = bounded(0.0, ge=0)


@dataclass
class OneCycleConfig:
    _target_: str = "trainrig.schedules.build_onecycle"
    _partial_: bool = True
    pct_start: float = bounded(0.3, gt=0, lt=1)
    div_factor: float = bounded(25.0, gt=0)
    final_div_factor: float = bounded(1e4, gt=0)


@dataclass
class PlateauConfig:
    _target_: str = "trainrig.schedules.build_plateau"
    _partial_: bool = True
    monitor: str = bounded(MISSING, choices=FIT_METRICS)
    mode: str = bounded(MISSING, choices=("min", "max"))
    factor: float = bounded(0.1, gt=0, lt=1)
    patience: int = bounded(5, ge=0)
    min_lr: float = bounded(0.0, ge=0)


# ---------------------------------------------------------------- callbacks, trainer, logger


@dataclass
class EarlyStoppingConfig:
    _target_: str = "trainrig.callbacks.early_stopping.EarlyStopping"
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
    _target_: str = "trainrig.distributed.named_strategy"
    name: str = bounded("auto", choices=("auto", "ddp", "ddp_spawn"))


# ---------------------------------------------------------------- the whole config

SCHEMAS: dict[str, type] = {
    str(schema.__dataclass_fields__["_target_"].default): schema
    for schema in (
        DigitsConfig,
        TorchvisionDatasetConfig,
        CSVConfig,
        ImageFolderConfig,
        AugmentationConfig,
        CNNConfig,
        MLPConfig,
        ResNetConfig,
        TorchvisionConfig,
        AdamConfig,
        AdamWConfig,
        SGDConfig,
        RMSpropConfig,
        StepConfig,
        MultiStepConfig,
        ExponentialConfig,
        CosineConfig,
        WarmupCosineConfig,
        OneCycleConfig,
        PlateauConfig,
        EarlyStoppingConfig,
        TrainerConfig,
        CSVLoggerConfig,
        NamedStrategyConfig,
    )
}

# Top-level groups holding one component each; `logger` holds a mapping of named loggers.
COMPONENT_GROUPS = (
    "data",
    "augmentation",
    "model",
    "optimizer",
    "scheduler",
    "early_stopping",
    "trainer",
    "compression",
    "strategy",
)


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
    optimized_metric: str = bounded("val/acc", choices=FINAL_METRICS)


@dataclass
class EvalTopLevel:
    task_name: str = "eval"
    ckpt_path: str = MISSING
