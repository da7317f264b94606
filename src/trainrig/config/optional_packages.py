"""Options that need a package trainrig does not install by default (an extra)."""

from __future__ import annotations

import importlib.util

from trainrig.config.errors import ConfigError


def require_extra(module: str, extra: str, option: str) -> None:
    """Fail with the pip command to run when `module` (of the extra `extra`) is not installed."""
    if importlib.util.find_spec(module) is None:
        raise ConfigError(
            f"{option} needs the {module} package, which is not installed: "
            f"pip install 'trainrig[{extra}]'"
        )
