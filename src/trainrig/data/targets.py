"""What a data set's targets are, and how a data builder learns the task's (a runtime argument)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, Literal

Targets = Literal["classes", "values", "labels"]


def accepts_targets(builder: Callable[..., Any]) -> bool:
    """Whether `builder` takes the task's targets as its first, positional-only `targets`."""
    parameters = list(inspect.signature(builder).parameters.values())
    return (
        bool(parameters)
        and parameters[0].name == "targets"
        and (parameters[0].kind is inspect.Parameter.POSITIONAL_ONLY)
    )
