"""Field helpers the schemas share: ranges and choices as field metadata, common checks."""

from __future__ import annotations

from dataclasses import MISSING as NO_DEFAULT
from dataclasses import field
from typing import Any, Optional

from trainrig.config.errors import ConfigError


def bounded(
    default: Any = NO_DEFAULT,
    *,
    factory: Any = NO_DEFAULT,
    gt: Optional[float] = None,
    ge: Optional[float] = None,
    lt: Optional[float] = None,
    le: Optional[float] = None,
    choices: tuple[Any, ...] | None = None,
) -> Any:
    """A dataclass field whose value (or each item of a list value) must lie in a range or set."""
    metadata = {"gt": gt, "ge": ge, "lt": lt, "le": le, "choices": choices}
    if factory is not NO_DEFAULT:
        return field(default_factory=factory, metadata=metadata)
    return field(default=default, metadata=metadata)


# ---------------------------------------------------------------- data and augmentation


def check_given_stats(mean: Optional[list[float]], std: Optional[list[float]]) -> None:
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


def check_range_pair(key: str, pair: Optional[list[float]]) -> None:
    """A [low, high] pair with low <= high."""
    if pair is not None and (len(pair) != 2 or pair[0] > pair[1]):
        raise ConfigError(f"{key} must be [low, high] with low <= high; got {pair}")
