"""Importing the user's `_target_` modules before anything is built, with one-line errors.

A target of the user's project (or a trusted package) whose module exists but fails to import
(a missing dependency, a syntax error, any exception) is reported with the module, its file, the
directory it was searched from and the error's last line; a module that is not found, with where
it was searched and the way out. Only names already allowed get here: importing runs their code.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys

from trainrig.config.errors import ConfigError
from trainrig.config.project_modules import spec_places, top_level_spec


def import_modules_of(key: str, target: str) -> None:
    """Import the modules along the dotted `target`, one by one, as `_target_` would import them;
    stop where the rest are attributes. A module that fails raises a ConfigError naming it."""
    if top_level_spec(target) is None:
        raise not_found(key, target)
    parts = target.split(".")
    for end in range(1, len(parts) + 1):
        name = ".".join(parts[:end])
        if name in sys.modules:
            continue
        if end > 1:
            parent = sys.modules.get(".".join(parts[: end - 1]))
            if parent is None or hasattr(parent, parts[end - 1]) or not hasattr(parent, "__path__"):
                return  # the rest are attributes, found (or not) by the resolve step
        spec = importlib.util.find_spec(name)
        if spec is None:
            return
        try:
            importlib.import_module(name)
        except Exception as error:
            where = spec.origin or ", ".join(str(p) for p in spec_places(spec))
            raise ConfigError(
                f"{key}: could not import {name} (found at {where}, searched from "
                f"{os.getcwd()}): {_last_line(error)}"
            ) from None


def not_found(key: str, target: str) -> ConfigError:
    """The error for a target whose top-level module is nowhere on sys.path."""
    top = target.partition(".")[0]
    searched = [entry or os.curdir for entry in sys.path[:3]]
    return ConfigError(
        f"{key}: {target!r}: no module {top!r} in {os.getcwd()} (sys.path starts "
        f"{', '.join(searched)}); run trainrig from your project's root, the folder holding "
        f"{top}/ or {top}.py, or fix the name"
    )


def missing_name(key: str, target: str) -> ConfigError:
    """The error for a target whose modules import but do not hold the name it asks for."""
    parts = target.split(".")
    found = sys.modules.get(parts[0])
    for end in range(1, len(parts)):
        name = ".".join(parts[: end + 1])
        if name in sys.modules or hasattr(found, parts[end]):
            found = sys.modules.get(name) or getattr(found, parts[end])
            continue
        where = getattr(found, "__file__", None) or "not a module"
        return ConfigError(
            f"{key}: {target!r}: {'.'.join(parts[:end])} ({where}) has no {parts[end]!r}; "
            "check the name"
        )
    return ConfigError(f"{key}: {target!r} cannot be imported; check the name")


def _last_line(error: BaseException) -> str:
    """`Type: message` with the message's last line, as a traceback ends."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return f"{type(error).__name__}: {lines[-1]}" if lines else type(error).__name__
