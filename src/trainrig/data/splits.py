"""Seeded, stratified splits."""

from __future__ import annotations

from torch import Tensor

from trainrig.config.errors import ConfigError

Split = tuple[Tensor, Tensor]


def stratified_holdout(x: Tensor, y: Tensor, fraction: float, seed: int) -> tuple[Split, Split]:
    """Hold out `fraction` of (x, y), each class in the same proportion in both parts."""
    from sklearn.model_selection import train_test_split

    labels = y.cpu().numpy()
    try:
        kept, held = train_test_split(
            list(range(len(labels))), test_size=fraction, stratify=labels, random_state=seed
        )
    except ValueError as error:  # too few samples for one of each class on both sides
        raise ConfigError(
            f"data: cannot split {len(labels)} samples stratified ({error}); every split needs "
            "each class at least once: add samples, or change data.val_fraction and "
            "data.test_fraction"
        ) from None
    return (x[kept], y[kept]), (x[held], y[held])


def stratified_split(
    x: Tensor, y: Tensor, val_fraction: float, test_fraction: float, seed: int
) -> tuple[Split, Split, Split]:
    """Split (x, y) into train/val/test with each class in the same proportion in every split."""
    rest, test = stratified_holdout(x, y, test_fraction, seed)
    train, val = stratified_holdout(*rest, val_fraction / (1.0 - test_fraction), seed)
    return train, val, test
