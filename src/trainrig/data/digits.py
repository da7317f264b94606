"""The 8x8 handwritten digits that ship inside scikit-learn: no download, in memory."""

from __future__ import annotations

import functools
import logging
from typing import TYPE_CHECKING

from trainrig.config.signature import option
from trainrig.data.option_rules import (
    BatchSize,
    Fraction,
    Mean,
    Rescale,
    Seed,
    Std,
    stats_and_fractions,
)

if TYPE_CHECKING:
    import torch

    from trainrig.data.in_memory import InMemoryDataModule

log = logging.getLogger(__name__)


@option("data", rule=stats_and_fractions)
def build_digits(
    batch_size: BatchSize = 64,
    val_fraction: Fraction = 0.15,
    test_fraction: Fraction = 0.15,
    normalize: bool = True,
    rescale: Rescale = 1 / 16,
    mean: Mean = None,
    std: Std = None,
    split_seed: Seed = 0,
) -> InMemoryDataModule:
    """scikit-learn's digits (1,797 8x8 images, pixels 0..16, 10 classes), split stratified.

    `rescale` (Keras') multiplies the stored pixels on the device (1/16: 0..16 -> [0, 1]);
    `normalize` standardizes each channel with the training split's mean/std, or with `mean` and
    `std` when given (e.g. [0.3] and [0.38]).
    """
    from trainrig.data.in_memory import InMemoryDataModule
    from trainrig.data.splits import stratified_split

    x, y = _digits()
    train, val, test = stratified_split(x, y, val_fraction, test_fraction, split_seed)
    module = InMemoryDataModule(train, val, test, 10, batch_size, normalize, rescale, mean, std)
    log.info("digits: %s samples", module.split_sizes())
    return module


@functools.cache  # read once per process: each in-process sweep trial builds its data anew
def _digits() -> tuple[torch.Tensor, torch.Tensor]:
    """All the images (N, 1, 8, 8) as float32 and their labels; the splits copy from these."""
    import torch
    from sklearn.datasets import load_digits

    from trainrig.data.in_memory import with_channel_axis

    digits = load_digits()
    x = with_channel_axis(torch.from_numpy(digits.images).to(torch.float32))
    return x, torch.from_numpy(digits.target).to(torch.long)
