"""The 8x8 handwritten digits that ship inside scikit-learn: no download, in memory."""

from __future__ import annotations

import logging

import torch

from trainrig.data.in_memory import InMemoryDataModule, as_float_images
from trainrig.data.splits import stratified_split

log = logging.getLogger(__name__)

DIGITS_MAX_PIXEL = 16.0


def build_digits(
    batch_size: int = 64,
    val_fraction: float = 0.15,
    test_fraction: float = 0.15,
    normalize: bool = True,
    split_seed: int = 0,
) -> InMemoryDataModule:
    """Load scikit-learn's digits (1,797 images, 10 classes), scaled to [0, 1], split stratified."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = as_float_images(torch.from_numpy(digits.images) / DIGITS_MAX_PIXEL)
    y = torch.from_numpy(digits.target).to(torch.long)
    train, val, test = stratified_split(x, y, val_fraction, test_fraction, split_seed)
    module = InMemoryDataModule(train, val, test, 10, batch_size, normalize)
    log.info("digits: %s samples", module.split_sizes())
    return module
