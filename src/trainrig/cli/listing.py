"""`trainrig list [GROUP]`: every option of every config group with its one-line description."""

from __future__ import annotations

import sys
from itertools import groupby

from trainrig.config.tree import group_names, iter_options


def list_options(args: list[str]) -> int:
    """Print options grouped by config group; returns the exit status."""
    if len(args) > 1:
        print("trainrig: error: usage: trainrig list [GROUP]", file=sys.stderr)
        return 2
    group = args[0] if args else None
    groups = group_names()
    if group is not None and group not in groups:
        print(
            f"trainrig: error: unknown config group {group!r}; choose one of {', '.join(groups)}",
            file=sys.stderr,
        )
        return 2
    options = sorted(iter_options(group), key=lambda o: o.group)
    width = max(len(o.name) for o in options)
    for name, members in groupby(options, key=lambda o: o.group):
        print(name)
        for option in members:
            origin = "" if option.source == "built-in" else f"  [{option.source}/]"
            print(f"  {option.name:<{width}}  {option.description}{origin}")
    return 0
