"""A nested config as one level of dotted keys, the way Hydra overrides name them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from trainrig.rundir.redaction import redacted

Scalar = str | int | float | bool | None


def flat_config(config: Mapping[Any, Any], prefix: str = "") -> dict[str, Scalar]:
    """`{"optimizer": {"lr": 0.1}}` -> `{"optimizer.lr": 0.1}`.

    Lists and empty mappings become their text (`[0.5, 0.5]`, `{}`); passwords in URLs are
    redacted, since loggers send these values elsewhere.
    """
    flat: dict[str, Scalar] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            flat.update(flat_config(value, f"{name}."))
        elif isinstance(value, str):
            flat[name] = redacted(value)
        elif isinstance(value, int | float | bool) or value is None:
            flat[name] = value
        else:
            flat[name] = redacted(str(value))
    return flat
