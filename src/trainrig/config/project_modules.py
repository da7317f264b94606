"""The user's own code: modules of the project `trainrig` runs in, and the packages it trusts.

`trainrig` puts its working directory first on sys.path, as `python -m` does (cli/main.py:
`put_project_on_path`), so a config may name `mypkg.models.build_net` without PYTHONPATH. A module
is the project's when its top-level module is found (`importlib.util.find_spec`, which imports
nothing for a top-level name) in a file or folder under the working directory and outside any
Python installation (a `.venv` there holds installed packages, not the project's code). A
standard-library name, or a module already imported from elsewhere (`os`), never is, whatever
files the directory holds. The project may trust more packages by name in its pyproject.toml:
`[tool.trainrig] trusted_modules = ["timm", "mylib"]`.
"""

from __future__ import annotations

import functools
import importlib.util
import sys
from importlib.machinery import ModuleSpec
from pathlib import Path

from trainrig.config.errors import ConfigError

TRUSTED_KEY = "trusted_modules"
INSTALLED_PARTS = {"site-packages", "dist-packages"}


def top_level_spec(name: str) -> ModuleSpec | None:
    """Where the top-level module of the dotted `name` is (its own when imported), or None."""
    try:
        return importlib.util.find_spec(name.partition(".")[0])
    except (ImportError, ValueError):  # an empty name; a module imported without a spec
        return None


def spec_places(spec: ModuleSpec) -> list[Path]:
    """The file of a module, or the folders of a package (several for a namespace package)."""
    if spec.submodule_search_locations is not None:
        return [Path(place) for place in spec.submodule_search_locations]
    return [Path(spec.origin)] if spec.has_location and spec.origin else []


def is_project_module(name: str) -> bool:
    """Whether the dotted `name` is under a top-level module found under the working directory."""
    top = name.partition(".")[0]
    if top in sys.stdlib_module_names or top == "__main__":
        return False
    spec = top_level_spec(top)
    places = [place.resolve() for place in spec_places(spec)] if spec else []
    cwd = Path.cwd().resolve()
    return bool(places) and all(cwd in p.parents and not _installed(p) for p in places)


def _installed(path: Path) -> bool:
    """Whether `path` lies in a Python installation (standard library or installed packages)."""
    import sysconfig

    if INSTALLED_PARTS & set(path.parts):
        return True
    roots = (sysconfig.get_path(kind) for kind in ("stdlib", "platstdlib", "purelib", "platlib"))
    return any(Path(root).resolve() in (path, *path.parents) for root in roots if root)


def trusted_modules() -> tuple[str, ...]:
    """The module prefixes the working directory's pyproject.toml trusts (none without one)."""
    pyproject = Path.cwd().resolve() / "pyproject.toml"
    try:
        changed = pyproject.stat().st_mtime_ns
    except OSError:
        return ()
    return _trusted_in(pyproject, changed)


@functools.cache
def _trusted_in(pyproject: Path, changed: int) -> tuple[str, ...]:
    """The file's list, read once per version of it (`changed`: its modification time)."""
    import tomllib

    where = f"{pyproject}: [tool.trainrig] {TRUSTED_KEY}"
    try:
        table = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"{where}: cannot read the file as TOML ({error}); fix it") from None
    tool = table.get("tool")
    section = tool.get("trainrig") if isinstance(tool, dict) else None
    value = section.get(TRUSTED_KEY, []) if isinstance(section, dict) else []
    if not isinstance(value, list) or not all(_module_name(name) for name in value):
        raise ConfigError(
            f'{where}: expected a list of module names such as ["timm", "mylib"], got {value!r}'
        )
    names: list[str] = value
    standard = [name for name in names if name.partition(".")[0] in sys.stdlib_module_names]
    if standard:
        raise ConfigError(
            f"{where}: {standard[0]!r} is a module of Python's standard library, which can run "
            "any command; trust only the packages your configs build from (or opt in with "
            "allow_any_target=true for one run of configs you trust)"
        )
    return tuple(names)


def _module_name(name: object) -> bool:
    return isinstance(name, str) and all(part.isidentifier() for part in name.split("."))
