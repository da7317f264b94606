"""Which callables a config may name in `_target_`: trainrig's and its libraries', the user's
project's, and the packages the project trusts; nothing else.

A config (a user's `./conf` option, an experiment, a checkpoint's stored config) is data that
someone else may have written; `_target_: os.system` in it would run their code. So every
`_target_` must name a callable under `ALLOWED_MODULES`, a module of the project trainrig runs in
(found under the working directory) or a package listed in its pyproject.toml's `[tool.trainrig]
trusted_modules` (config/project_modules.py), unless the user sets `OPT_IN=true`. The check runs
twice: `check_targets` reads the strings while validating (no import, so `os.system` is refused
before torch loads), and `check_targets_resolve` imports each target before anything is built
(a project module that fails to import is reported there, config/target_import.py) and checks
where the object it names really lives (`torch.os.system` is `os.system`). `CODE_LOADERS` are
callables of allowed libraries that load or run code.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from trainrig.config.errors import ConfigError
from trainrig.config.project_modules import (
    TRUSTED_KEY,
    is_project_module,
    top_level_spec,
    trusted_modules,
)
from trainrig.config.target_import import import_modules_of, missing_name, not_found

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
    """Whether the dotted name `target` is trainrig's or its libraries', the project's or a
    trusted package's, and loads no code."""
    if _under(target, CODE_LOADERS):
        return False
    return (
        _under(target, ALLOWED_MODULES)
        or _under(target, trusted_modules())
        or is_project_module(target)
    )


def refusal(key: str, target: str, detail: str = "") -> ConfigError:
    """The error for a `_target_` outside the allow-list: the key, the target, the ways out."""
    return ConfigError(
        f"{key}: {target!r}{detail} is not under trainrig's libraries "
        f"({', '.join(ALLOWED_MODULES)}), this project's modules (under {Path.cwd()}) or the "
        f"{TRUSTED_KEY} of its pyproject.toml ([tool.trainrig]); a config may not run other "
        f"code: list the package in {TRUSTED_KEY} if you trust it, or opt in with {OPT_IN}=true "
        "(only for configs you trust)"
    )


def _check_name(key: str, target: str) -> None:
    """Refuse `target` by its name alone; a name whose module is nowhere says where it looked."""
    if is_allowed(target):
        return
    if top_level_spec(target) is None:
        raise not_found(key, target)
    raise refusal(key, target)


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
    trusted_modules()  # a malformed pyproject.toml [tool.trainrig] is reported in any case
    for key, target in targets_in(values, prefix):
        _check_name(key, target)


def check_targets_resolve(values: dict[str, Any], allow_any: bool, prefix: str = "") -> None:
    """Import each `_target_` and refuse one whose object lives outside the allow-list; with
    `allow_any`, import the modules of those outside trainrig's libraries, to report a failure."""
    for key, target in targets_in(values, prefix):
        if not allow_any:
            check_callable_name(key, target)
        elif not _under(target, ALLOWED_MODULES):
            import_modules_of(key, target)


def check_callable_name(key: str, target: str) -> None:
    """Refuse `target` (a dotted name) unless both the name and the object it names are allowed;
    the user's own modules are imported first, so that one failing to import is reported."""
    import inspect

    _check_name(key, target)
    libraries = _under(target, ALLOWED_MODULES)
    if not libraries:
        import_modules_of(key, target)
    try:
        found = _located(target)
    except ImportError:
        if libraries:
            return  # instantiation reports the unknown name itself
        raise missing_name(key, target) from None
    if inspect.ismodule(found):  # before its attributes: torch.classes makes any on demand
        raise refusal(key, target, " (which is a module)")
    home = getattr(found, "__module__", None) or ""
    name = f"{home}.{getattr(found, '__qualname__', '')}"
    if not is_allowed(name):
        unknown = "an object that does not say where it lives"  # no __module__ or __qualname__
        raise refusal(key, target, f" (which is {name.rstrip('.') or unknown})")


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
