"""k-fold cross-validation over the train and val splits together; the test split stays as it is.

Folds are scikit-learn's `StratifiedKFold` for class indices (each class in the same proportion
in every fold) and `KFold` for values and multi-hot labels, shuffled with the run's seed, so the
k runs of one `repeat.folds=k` share one partition and their val splits are disjoint and cover
every train and val sample once.
"""

from __future__ import annotations

import logging
from typing import Any

import torch
from torch import Tensor

from trainrig.config.errors import ConfigError
from trainrig.data.in_memory import InMemoryDataModule

log = logging.getLogger(__name__)


def fold_indices(labels: Tensor, folds: int, fold: int, seed: int) -> tuple[Tensor, Tensor]:
    """(train, val) sample indices of fold `fold` of `folds`; class-index labels (a 1-d integer
    tensor) are split stratified, other targets at random."""
    from sklearn.model_selection import KFold, StratifiedKFold

    stratify = labels.dim() == 1 and not labels.is_floating_point()
    _check_enough_samples(labels, folds, stratify)
    splitter = (StratifiedKFold if stratify else KFold)(folds, shuffle=True, random_state=seed)
    plain = labels.cpu().numpy()
    train, val = list(splitter.split(plain, plain if stratify else None))[fold]
    return torch.from_numpy(train), torch.from_numpy(val)


def _check_enough_samples(labels: Tensor, folds: int, stratify: bool) -> None:
    if stratify:
        classes, counts = torch.unique(labels, return_counts=True)
        fewest = int(counts.argmin())
        if folds > counts[fewest]:
            raise ConfigError(
                f"repeat.folds={folds}: class {int(classes[fewest])} has only "
                f"{int(counts[fewest])} samples in the train and val splits together, and every "
                f"fold needs each class: set repeat.folds to at most {int(counts[fewest])}"
            )
    elif folds > len(labels):
        raise ConfigError(
            f"repeat.folds={folds}: the train and val splits hold only {len(labels)} samples "
            f"together: set repeat.folds to at most {len(labels)}"
        )


def use_fold(data: Any, folds: int, fold: int, seed: int) -> None:
    """Make `data`'s train and val splits fold `fold` of `folds` over both together."""
    if not isinstance(data, InMemoryDataModule):
        raise ConfigError(
            f"repeat.folds: k-fold needs the train and val samples in memory (digits, csv, "
            f"diabetes, torchvision, image_folder with storage=memory), not a "
            f"{type(data).__name__}; use repeat.seeds, or data.storage=memory"
        )
    (x_train, y_train), (x_val, y_val) = data.splits["train"], data.splits["val"]
    x, y = torch.cat([x_train, x_val]), torch.cat([y_train, y_val])
    train, val = fold_indices(y, folds, fold, seed)
    data.splits["train"], data.splits["val"] = (x[train], y[train]), (x[val], y[val])
    log.info("repeat: fold %d of %d (0-%d): %s samples", fold, folds, folds - 1, data.split_sizes())
