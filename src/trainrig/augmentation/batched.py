"""Batched, on-device data augmentation with per-sample random parameters.

Geometry (affine and flips) is trainrig's `RandomAffine`/`RandomFlip`, one grid_sample per batch;
crop, colour jitter and erasing are kornia's; MixUp/CutMix are torchvision's batch transforms.

Parameters follow Keras' ImageDataGenerator where it has one (`rotation_range`, `width_shift_range`,
`height_shift_range`, `zoom_range`, `shear_range`, `brightness_range`, flips, `fill_mode`), plus
random crop with padding, colour jitter, random erasing and MixUp/CutMix. Inputs are float images
already rescaled to [0, 1]; only training batches are augmented.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from trainrig.augmentation.per_sample import build_per_sample_augmentation
from trainrig.augmentation.random_affine import RandomAffine, RandomFlip
from trainrig.config.errors import ConfigError

# Keras fill_mode -> grid_sample padding_mode
FILL_MODES = {"constant": "zeros", "nearest": "border", "reflect": "reflection"}


class RandomBrightnessScale(nn.Module):
    """Multiply each image by its own factor drawn from [low, high] (Keras' brightness_range)."""

    def __init__(self, low: float, high: float) -> None:
        super().__init__()
        self.low, self.high = low, high

    def forward(self, x: Tensor) -> Tensor:
        shape = (x.shape[0],) + (1,) * (x.dim() - 1)
        factor = torch.empty(shape, device=x.device, dtype=x.dtype).uniform_(self.low, self.high)
        return (x * factor).clamp(0.0, 1.0)


class BatchAugmentation(nn.Module):
    """Per-sample transforms of a batch, then optional MixUp/CutMix of the batch.

    Returns the augmented images and targets: class indices as given, or soft class
    probabilities (batch, classes) when the batch was mixed; cross-entropy takes either.
    """

    def __init__(self, transforms: nn.Module, mixing: nn.Module | None = None) -> None:
        super().__init__()
        self.transforms = transforms
        self.mixing = mixing
        self.per_sample: nn.Module | None = None  # transforms for loader workers, if any

    def forward(self, x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
        x = self.transforms(x)
        if self.mixing is not None:
            x, y = self.mixing(x, y)
        return x, y


def zoom_bounds(zoom_range: float | Sequence[float]) -> tuple[float, float]:
    """Keras' zoom_range: r means zooms in [1 - r, 1 + r]; a pair is [low, high] as given."""
    if isinstance(zoom_range, int | float):
        return (1.0 - zoom_range, 1.0 + zoom_range)
    return (float(zoom_range[0]), float(zoom_range[1]))


def build_augmentation(
    input_shape: Sequence[int],
    num_classes: int,
    rotation_range: float = 0.0,
    width_shift_range: float = 0.0,
    height_shift_range: float = 0.0,
    zoom_range: float | Sequence[float] = 0.0,
    shear_range: float = 0.0,
    fill_mode: str = "nearest",
    horizontal_flip: bool = False,
    vertical_flip: bool = False,
    brightness_range: Sequence[float] | None = None,
    crop_padding: int = 0,
    color_jitter: float = 0.0,
    erasing_probability: float = 0.0,
    mixup_alpha: float = 0.0,
    cutmix_alpha: float = 0.0,
    backend: str = "batched",
) -> BatchAugmentation:
    """The transforms the options switch on, in Keras' order: affine, flips, brightness; then
    crop, colour jitter, erasing; then MixUp/CutMix (one of them per batch when both are on).

    `backend: per_sample` puts the per-image transforms on the CPU path instead (torchvision v2 in
    loader workers, see `per_sample_augmentation`): the returned module then only mixes, and its
    `per_sample` attribute holds the transforms for the data module.
    """
    import kornia.augmentation as K

    zoom = zoom_bounds(zoom_range)
    mixing = _mixing(num_classes, mixup_alpha, cutmix_alpha)
    if backend == "per_sample":
        augmentation = BatchAugmentation(nn.Identity(), mixing)
        augmentation.per_sample = build_per_sample_augmentation(
            input_shape, rotation_range, width_shift_range, height_shift_range, zoom,
            shear_range, fill_mode, horizontal_flip, vertical_flip, brightness_range,
            crop_padding, color_jitter, erasing_probability,
        )  # fmt: skip
        return augmentation
    steps: list[nn.Module] = []
    shifts = (width_shift_range, height_shift_range)
    if rotation_range or any(shifts) or zoom != (1.0, 1.0) or shear_range:
        if fill_mode not in FILL_MODES:
            raise ConfigError(f"augmentation.fill_mode: choose one of {', '.join(FILL_MODES)}")
        steps.append(
            RandomAffine(
                rotation_range, shifts, shear_range, zoom, horizontal_flip, vertical_flip,
                padding_mode=FILL_MODES[fill_mode],
            )
        )  # fmt: skip
    elif horizontal_flip or vertical_flip:
        steps.append(RandomFlip(horizontal_flip, vertical_flip))
    if brightness_range is not None:
        steps.append(RandomBrightnessScale(*brightness_range))
    if crop_padding:
        steps.append(K.RandomCrop(tuple(input_shape[-2:]), padding=crop_padding))
    if color_jitter:
        if input_shape[0] != 3:
            raise ConfigError("augmentation.color_jitter needs RGB images; set it to 0")
        strength = color_jitter
        steps.append(K.ColorJitter(strength, strength, strength, min(strength, 0.5) / 2, p=0.8))
    if erasing_probability:
        steps.append(K.RandomErasing(p=erasing_probability))
    return BatchAugmentation(nn.Sequential(*steps), mixing)


def _mixing(num_classes: int, mixup_alpha: float, cutmix_alpha: float) -> nn.Module | None:
    """torchvision's batch MixUp / CutMix (soft targets), or a random choice of the two."""
    from torchvision.transforms import v2

    mixes: list[nn.Module] = []
    if mixup_alpha:
        mixes.append(v2.MixUp(alpha=mixup_alpha, num_classes=num_classes))
    if cutmix_alpha:
        mixes.append(v2.CutMix(alpha=cutmix_alpha, num_classes=num_classes))
    if not mixes:
        return None
    return mixes[0] if len(mixes) == 1 else v2.RandomChoice(mixes)
