"""Seeded, stratified splits."""

from __future__ import annotations

from torch import Tensor

Split = tuple[Tensor, Tensor]


def stratified_holdout(x: Tensor, y: Tensor, fraction: float, seed: int) -> tuple[Split, Split]:
    """Hold out `fraction` of (x, y), each class in the same proportion in both parts."""
    from sklearn.model_selection import train_test_split

    labels = y.cpu().numpy()
    kept, held = train_test_split(
        list(range(len(labels))), test_size=fraction, stratify=labels, random_state=seed
    )
    return (x[kept], y[kept]), (x[held], y[held])


def stratified_split(
    x: Tensor, y: Tensor, val_fraction: float, test_fraction: float, seed: int
) -> tuple[Split, Split, Split]:
    """Split (x, y) into train/val/test with each class in the same proportion in every split."""
    rest, test = stratified_holdout(x, y, test_fraction, seed)
    train, val = stratified_holdout(*rest, val_fraction / (1.0 - test_fraction), seed)
    return train, val, test
