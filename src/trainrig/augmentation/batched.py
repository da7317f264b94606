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
from typing import TYPE_CHECKING, Annotated, Any, Literal

from annotated_types import Ge, Le, Lt

from trainrig.config.errors import ConfigError
from trainrig.config.signature import option

if TYPE_CHECKING:
    from torch import nn

    from trainrig.augmentation.batch_augmentation import BatchAugmentation

# Keras fill_mode -> grid_sample padding_mode
FILL_MODES = {"constant": "zeros", "nearest": "border", "reflect": "reflection"}


def zoom_bounds(zoom_range: float | Sequence[float]) -> tuple[float, float]:
    """Keras' zoom_range: r means zooms in [1 - r, 1 + r]; a pair is [low, high] as given."""
    if isinstance(zoom_range, int | float):
        return (1.0 - zoom_range, 1.0 + zoom_range)
    return (float(zoom_range[0]), float(zoom_range[1]))


def check_range_pair(key: str, pair: Sequence[float] | None) -> None:
    """A [low, high] pair with low <= high."""
    if pair is not None and (len(pair) != 2 or pair[0] > pair[1]):
        raise ConfigError(f"{key} must be [low, high] with low <= high; got {pair}")


def _ranges(**options: Any) -> None:
    """brightness_range is a [low, high] pair; zoom_range a fraction below 1 or such a pair."""
    check_range_pair("augmentation.brightness_range", options["brightness_range"])
    zoom = options["zoom_range"]
    if isinstance(zoom, list | tuple):
        check_range_pair("augmentation.zoom_range", zoom)
    elif not isinstance(zoom, int | float) or zoom >= 1:
        raise ConfigError(
            f"augmentation.zoom_range is a fraction below 1 (0.1 means [0.9, 1.1]) or a "
            f"[low, high] pair; got {zoom}"
        )


Unit = Annotated[float, Ge(0), Le(1)]
Alpha = Annotated[float, Ge(0)]


@option("augmentation", partial=True, rule=_ranges)
def build_augmentation(
    input_shape: Sequence[int],
    num_classes: int,
    /,
    rotation_range: Annotated[float, Ge(0), Le(180)] = 0.0,
    width_shift_range: Annotated[float, Ge(0), Lt(1)] = 0.0,
    height_shift_range: Annotated[float, Ge(0), Lt(1)] = 0.0,
    zoom_range: Annotated[float | Sequence[float], Ge(0)] = 0.0,
    shear_range: Annotated[float, Ge(0), Lt(90)] = 0.0,
    fill_mode: Literal["constant", "nearest", "reflect"] = "nearest",
    horizontal_flip: bool = False,
    vertical_flip: bool = False,
    brightness_range: Sequence[Annotated[float, Ge(0)]] | None = None,
    crop_padding: Annotated[int, Ge(0)] = 0,
    color_jitter: Unit = 0.0,
    erasing_probability: Unit = 0.0,
    mixup_alpha: Alpha = 0.0,
    cutmix_alpha: Alpha = 0.0,
    backend: Literal["batched", "per_sample"] = "batched",
) -> BatchAugmentation:
    """The transforms the options switch on, in Keras' order: affine, flips, brightness; then
    crop, colour jitter, erasing; then MixUp/CutMix (one of them per batch when both are on).

    `backend: per_sample` puts the per-image transforms on the CPU path instead (torchvision v2 in
    loader workers, see `per_sample_augmentation`): the returned module then only mixes, and its
    `per_sample` attribute holds the transforms for the data module.

    Ranges are Keras': rotation in degrees, shifts as fractions of the size, `zoom_range` r
    zooming in [1 - r, 1 + r] (or a [low, high] pair), shear in degrees, `brightness_range` a
    factor range (e.g. [0.8, 1.2]); `crop_padding` pixels pad a random crop back to the input
    size; `color_jitter` is a brightness/contrast/saturation strength (RGB only); `mixup_alpha`
    and `cutmix_alpha` > 0 mix batches with soft targets (one of the two per batch when both are).
    """
    import kornia.augmentation as K
    from torch import nn

    from trainrig.augmentation.batch_augmentation import BatchAugmentation, RandomBrightnessScale
    from trainrig.augmentation.per_sample import build_per_sample_augmentation
    from trainrig.augmentation.random_affine import RandomAffine, RandomFlip

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
