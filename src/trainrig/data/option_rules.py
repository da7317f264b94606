"""Types and cross-field rules the `data` options share (torch-free: validation reads them)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from annotated_types import Ge, Gt, Lt

from trainrig.config.errors import ConfigError

BatchSize = Annotated[int, Ge(1)]
Fraction = Annotated[float, Gt(0), Lt(1)]
Rescale = Annotated[float, Gt(0)]
Seed = Annotated[int, Ge(0)]
Mean = Sequence[float] | None
Std = Sequence[Annotated[float, Gt(0)]] | None


def check_given_stats(mean: Sequence[float] | None, std: Sequence[float] | None) -> None:
    """Given normalization statistics come as a pair of equally long lists."""
    if (mean is None) != (std is None) or (mean is not None and len(mean) != len(std or [])):
        raise ConfigError(
            "data.mean and data.std go together, one value per channel (or feature), e.g. "
            f"data.mean=[0.5] data.std=[0.25]; got mean={mean}, std={std}"
        )


def check_fractions(val_fraction: float, test_fraction: float) -> None:
    """Held-out fractions leave something to train on."""
    if val_fraction + test_fraction >= 1:
        raise ConfigError(
            "data.val_fraction + data.test_fraction must be < 1 so some data is left to "
            f"train on; got {val_fraction} + {test_fraction}"
        )


def stats_and_fractions(**options: Any) -> None:
    """The rule of every `data` option: given stats in pairs, held-out fractions below 1."""
    check_given_stats(options["mean"], options["std"])
    if "test_fraction" in options:
        check_fractions(options["val_fraction"], options["test_fraction"])
