"""The 8x8 handwritten digits that ship inside scikit-learn: no download, in memory."""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence

import torch

from trainrig.data.in_memory import InMemoryDataModule, with_channel_axis
from trainrig.data.splits import stratified_split

log = logging.getLogger(__name__)


def build_digits(
    batch_size: int = 64,
    val_fraction: float = 0.15,
    test_fraction: float = 0.15,
    normalize: bool = True,
    rescale: float = 1 / 16,
    mean: Sequence[float] | None = None,
    std: Sequence[float] | None = None,
    split_seed: int = 0,
) -> InMemoryDataModule:
    """scikit-learn's digits (1,797 8x8 images, pixels 0..16, 10 classes), split stratified."""
    x, y = _digits()
    train, val, test = stratified_split(x, y, val_fraction, test_fraction, split_seed)
    module = InMemoryDataModule(train, val, test, 10, batch_size, normalize, rescale, mean, std)
    log.info("digits: %s samples", module.split_sizes())
    return module


@functools.cache  # read once per process: each in-process sweep trial builds its data anew
def _digits() -> tuple[torch.Tensor, torch.Tensor]:
    """All the images (N, 1, 8, 8) as float32 and their labels; the splits copy from these."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = with_channel_axis(torch.from_numpy(digits.images).to(torch.float32))
    return x, torch.from_numpy(digits.target).to(torch.long)
