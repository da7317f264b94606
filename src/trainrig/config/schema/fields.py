"""Field helpers the schemas share: ranges and choices as field metadata, common checks."""

from __future__ import annotations

from dataclasses import MISSING as NO_DEFAULT
from dataclasses import field
from typing import Any, Optional


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
