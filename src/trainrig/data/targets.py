"""What a data module's targets are, and whether a data builder is told which ones to give.

The task decides the targets: `classes` (single-label classification: one class index per
sample, int64 (N,)), `labels` (multi-label: float32 multi-hot (N, k)) or `values` (regression:
float32 (N, k)). A builder that can give more than one kind takes them as its first parameter,
positional-only and named `targets` (runtime-only, so never a config key); the runner then calls
it with the task's targets. Builders without it give class indices only.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, Literal

Targets = Literal["classes", "values", "labels"]


def accepts_targets(builder: Callable[..., Any]) -> bool:
    """Whether `builder`'s first parameter is positional-only and named `targets`."""
    try:
        parameters = list(inspect.signature(builder).parameters.values())
    except (TypeError, ValueError):  # a callable without a readable signature
        return False
    first = parameters[0] if parameters else None
    return first is not None and first.name == "targets" and first.kind is first.POSITIONAL_ONLY
