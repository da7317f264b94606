"""Seeded splits: stratified by class (class indices), or at random (values, multi-hot labels)."""

from __future__ import annotations

from torch import Tensor

from trainrig.config.errors import ConfigError

Split = tuple[Tensor, Tensor]


def stratified_holdout(x: Tensor, y: Tensor, fraction: float, seed: int) -> tuple[Split, Split]:
    """Hold out `fraction` of (x, y), each class in the same proportion in both parts."""
    return _holdout(x, y, fraction, seed, stratify=True)


def random_holdout(x: Tensor, y: Tensor, fraction: float, seed: int) -> tuple[Split, Split]:
    """Hold out `fraction` of (x, y), drawn at random with `seed`."""
    return _holdout(x, y, fraction, seed, stratify=False)


def _holdout(
    x: Tensor, y: Tensor, fraction: float, seed: int, stratify: bool
) -> tuple[Split, Split]:
    from sklearn.model_selection import train_test_split

    labels = y.cpu().numpy()
    try:
        kept, held = train_test_split(
            list(range(len(labels))),
            test_size=fraction,
            stratify=labels if stratify else None,
            random_state=seed,
        )
    except ValueError as error:  # too few samples (for one of each class) on both sides
        if not stratify:
            raise ConfigError(
                f"data: cannot split {len(labels)} samples ({error}); add samples, or change "
                "data.val_fraction and data.test_fraction"
            ) from None
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


def random_split(
    x: Tensor, y: Tensor, val_fraction: float, test_fraction: float, seed: int
) -> tuple[Split, Split, Split]:
    """Split (x, y) into train/val/test at random (the same sizes `stratified_split` gives)."""
    rest, test = random_holdout(x, y, test_fraction, seed)
    train, val = random_holdout(*rest, val_fraction / (1.0 - test_fraction), seed)
    return train, val, test
