"""Training strategies (one device, data parallel, ...) as Lightning strategy names or objects."""

from __future__ import annotations


def named_strategy(name: str = "auto") -> str:
    """A strategy Lightning knows by name: `auto` (one device here, DDP when devices > 1)."""
    return name
