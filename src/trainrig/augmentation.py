"""Batched, on-device data augmentation with per-sample random parameters (kornia)."""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn


def build_augmentation(
    rotation_degrees: float = 0.0,
    translate: float = 0.0,
    scale: Sequence[float] = (1.0, 1.0),
    horizontal_flip: bool = False,
    vertical_flip: bool = False,
) -> nn.Module:
    """Random affine (rotation, shift, zoom) and flips; applied to training batches only."""
    import kornia.augmentation as K

    steps: list[nn.Module] = []
    low, high = scale
    if rotation_degrees or translate or (low, high) != (1.0, 1.0):
        steps.append(
            K.RandomAffine(
                degrees=rotation_degrees,
                translate=(translate, translate) if translate else None,
                scale=(low, high) if (low, high) != (1.0, 1.0) else None,
                p=1.0,
            )
        )
    if horizontal_flip:
        steps.append(K.RandomHorizontalFlip())
    if vertical_flip:
        steps.append(K.RandomVerticalFlip())
    return nn.Sequential(*steps)
