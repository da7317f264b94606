"""Seeded, stratified train/val/test splits."""

from __future__ import annotations

from torch import Tensor

Split = tuple[Tensor, Tensor]


def stratified_split(
    x: Tensor, y: Tensor, val_fraction: float, test_fraction: float, seed: int
) -> tuple[Split, Split, Split]:
    """Split (x, y) into train/val/test with each class in the same proportion in every split."""
    from sklearn.model_selection import train_test_split

    indices = list(range(len(y)))
    rest, test = train_test_split(
        indices, test_size=test_fraction, stratify=y.numpy(), random_state=seed
    )
    val_share = val_fraction / (1.0 - test_fraction)
    train, val = train_test_split(
        rest, test_size=val_share, stratify=y[rest].numpy(), random_state=seed
    )
    return (x[train], y[train]), (x[val], y[val]), (x[test], y[test])
