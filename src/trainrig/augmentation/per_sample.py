"""The per-sample CPU path: the same augmentation options as torchvision v2 transforms, applied to
each sample in DataLoader workers (for data that cannot be augmented as a batch on the device)."""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from trainrig.config.errors import ConfigError

# Keras fill_mode -> the fill torchvision applies outside the image
FILLS = {"constant": 0}


def build_per_sample_augmentation(
    input_shape: Sequence[int],
    rotation_range: float = 0.0,
    width_shift_range: float = 0.0,
    height_shift_range: float = 0.0,
    zoom: tuple[float, float] = (1.0, 1.0),
    shear_range: float = 0.0,
    fill_mode: str = "constant",
    horizontal_flip: bool = False,
    vertical_flip: bool = False,
    brightness_range: Sequence[float] | None = None,
    crop_padding: int = 0,
    color_jitter: float = 0.0,
    erasing_probability: float = 0.0,
) -> nn.Module:
    """torchvision v2 transforms for one (C, H, W) image, in the batched path's order.

    torchvision draws one isotropic scale where Keras draws x and y zooms; its scale enlarges
    where Keras' zoom shrinks, so the range is inverted. It fills with a constant only.
    """
    from torchvision.transforms import v2

    if fill_mode not in FILLS:
        raise ConfigError(
            "augmentation.fill_mode: the per-sample path fills with a constant only; "
            "set augmentation.fill_mode=constant or augmentation.backend=batched"
        )
    steps: list[nn.Module] = []
    shifts = (width_shift_range, height_shift_range)
    if rotation_range or any(shifts) or zoom != (1.0, 1.0) or shear_range:
        steps.append(
            v2.RandomAffine(
                degrees=rotation_range,
                translate=shifts if any(shifts) else None,
                scale=(1 / zoom[1], 1 / zoom[0]) if zoom != (1.0, 1.0) else None,
                shear=shear_range or None,
                fill=FILLS[fill_mode],
            )
        )
    if horizontal_flip:
        steps.append(v2.RandomHorizontalFlip())
    if vertical_flip:
        steps.append(v2.RandomVerticalFlip())
    if brightness_range is not None:
        steps.append(v2.ColorJitter(brightness=tuple(brightness_range)))
    if crop_padding:
        steps.append(v2.RandomCrop(tuple(input_shape[-2:]), padding=crop_padding))
    if color_jitter:
        steps.append(
            v2.RandomApply([v2.ColorJitter(color_jitter, color_jitter, color_jitter)], 0.8)
        )
    if erasing_probability:
        steps.append(v2.RandomErasing(p=erasing_probability))
    if not steps:
        return nn.Identity()
    composed: nn.Module = v2.Compose(steps)
    return composed
