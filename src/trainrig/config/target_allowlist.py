"""Which callables a config may name in `_target_`: trainrig's and its libraries', nothing else.

A config (a user's `./conf` option, an experiment, a checkpoint's stored config) is data that
someone else may have written; `_target_: os.system` in it would run their code. So every
`_target_` must name a callable under `ALLOWED_MODULES`, unless the user sets `OPT_IN=true`.
The check runs twice: `check_targets` reads the strings while validating (no import, so
`os.system` is refused before torch loads), and `check_targets_resolve` imports each target
before anything is built and checks where the object it names really lives (`torch.os.system` is
`os.system`). `CODE_LOADERS` are callables of allowed libraries that load or run code.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from trainrig.config.errors import ConfigError

ALLOWED_MODULES = (
    "trainrig",
    "torch",
    "torchvision",
    "kornia",
    "pytorch_lightning",
    "lightning",
    "torchmetrics",
    "optuna",
)
CODE_LOADERS = (
    "torch.load",
    "torch.serialization",
    "torch.hub",
    "torch.jit.load",
    "torch.package",
    "torch.utils.cpp_extension",
    "torch.ops.load_library",
    "torch.classes.load_library",
    "torch._ops",
)
OPT_IN = "allow_any_target"
TARGET_KEY = "_target_"


def _under(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(f"{p}.") for p in prefixes)


def is_allowed(target: str) -> bool:
    """Whether the dotted name `target` is under an allowed module and loads no code."""
    return _under(target, ALLOWED_MODULES) and not _under(target, CODE_LOADERS)


def refusal(key: str, target: str, detail: str = "") -> ConfigError:
    """The error for a `_target_` outside the allow-list: the key, the target, the switch."""
    return ConfigError(
        f"{key}: {target!r}{detail} is not under trainrig's allowed modules "
        f"({', '.join(ALLOWED_MODULES)}); a config may not run other code unless you opt in "
        f"with {OPT_IN}=true (only for configs you trust)"
    )


def targets_in(node: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(full key, target) of every `_target_` in a nested config, at any depth."""
    if isinstance(node, dict):
        for key, value in node.items():
            full = f"{path}.{key}" if path else str(key)
            if key == TARGET_KEY and isinstance(value, str):
                yield full, value
            else:
                yield from targets_in(value, full)
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from targets_in(item, f"{path}[{index}]")


def check_targets(values: dict[str, Any], allow_any: bool, prefix: str = "") -> None:
    """Refuse a `_target_` outside the allow-list, by its name alone (imports nothing)."""
    if allow_any:
        return
    for key, target in targets_in(values, prefix):
        if not is_allowed(target):
            raise refusal(key, target)


def check_targets_resolve(values: dict[str, Any], allow_any: bool, prefix: str = "") -> None:
    """Import each `_target_` and refuse one whose object lives outside the allow-list."""
    if allow_any:
        return
    for key, target in targets_in(values, prefix):
        check_callable_name(key, target)


def check_callable_name(key: str, target: str) -> None:
    """Refuse `target` (a dotted name) unless both the name and the object it names are allowed."""
    import inspect

    if not is_allowed(target):
        raise refusal(key, target)
    try:
        found = _located(target)
    except ImportError:
        return  # instantiation reports the unknown name itself
    home = getattr(found, "__module__", None) or ""
    name = f"{home}.{getattr(found, '__qualname__', '')}"
    if inspect.ismodule(found) or not is_allowed(name):
        raise refusal(key, target, f" (which is {name.rstrip('.') or 'a module'})")


def _located(target: str) -> Any:
    """The object `target` names, found as `instantiate` finds it (`hydra.utils.get_object`),
    without the error line that function logs for a name that does not import."""
    import logging

    from hydra.utils import get_object

    def drop(record: logging.LogRecord) -> bool:
        return False

    hydra_utils = logging.getLogger("hydra.utils")
    hydra_utils.addFilter(drop)
    try:
        return get_object(target)
    finally:
        hydra_utils.removeFilter(drop)
