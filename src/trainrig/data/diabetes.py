"""scikit-learn's diabetes regression set, shipped inside it: no download, in memory."""

from __future__ import annotations

import functools
import logging
from typing import TYPE_CHECKING, Any

from trainrig.config.errors import ConfigError
from trainrig.config.signature import option
from trainrig.data.option_rules import BatchSize, Fraction, Seed, check_fractions
from trainrig.data.targets import Targets

if TYPE_CHECKING:
    import torch

    from trainrig.data.in_memory import InMemoryDataModule

log = logging.getLogger(__name__)


def _fractions(**options: Any) -> None:
    check_fractions(options["val_fraction"], options["test_fraction"])


@option("data", rule=_fractions)
def build_diabetes(
    targets: Targets = "values",
    /,
    *,
    batch_size: BatchSize = 32,
    val_fraction: Fraction = 0.15,
    test_fraction: Fraction = 0.2,
    normalize: bool = True,
    split_seed: Seed = 0,
) -> InMemoryDataModule:
    """442 patients, 10 features (age, sex, bmi, blood pressure, six serum measurements, as
    recorded), target: disease progression one year later (25..346), float32 (N, 1).

    Split at random; a fifth held out for the test, so its R2 rests on 89 patients.
    `normalize` standardizes each feature with the training split's mean/std; the targets stay
    as recorded (`target_stats` gives their training mean/std).
    """
    from trainrig.data.in_memory import InMemoryDataModule
    from trainrig.data.splits import random_split

    if targets != "values":
        raise ConfigError("data=diabetes is a regression set: use task=regression")
    x, y = _diabetes()
    train, val, test = random_split(x, y, val_fraction, test_fraction, split_seed)
    module = InMemoryDataModule(train, val, test, 1, batch_size, normalize, 1.0, targets="values")
    log.info("diabetes: %s samples", module.split_sizes())
    return module


@functools.cache  # read once per process: each in-process sweep trial builds its data anew
def _diabetes() -> tuple[torch.Tensor, torch.Tensor]:
    """The features (442, 10) as recorded and the targets (442, 1), both float32; the splits
    copy from these."""
    import torch
    from sklearn.datasets import load_diabetes

    features, target = load_diabetes(return_X_y=True, scaled=False)
    x = torch.from_numpy(features).to(torch.float32)
    return x, torch.from_numpy(target).to(torch.float32).unsqueeze(1)
