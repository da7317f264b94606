"""Schemas of the `data` and `augmentation` options."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from omegaconf import MISSING

from trainrig.config.errors import ConfigError
from trainrig.config.schema.fields import (
    bounded,
    check_fractions,
    check_given_stats,
    check_range_pair,
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


@dataclass
class AugmentationConfig:
    _target_: str = "trainrig.augmentation.batched.build_augmentation"
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
