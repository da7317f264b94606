"""The allow-list's rule for the user's own code, function by function: a project's modules are
those found under the working directory, `trusted_modules` come from its pyproject.toml, and a
module of its that fails to import is reported in one line (the CLI: test_own_code_cli.py)."""

from __future__ import annotations

import importlib
import importlib.util
import re
import sys
import sysconfig
from collections.abc import Iterator
from importlib.machinery import ModuleSpec
from pathlib import Path

import pytest

from trainrig.cli.main import put_project_on_path
from trainrig.config.errors import ConfigError
from trainrig.config.project_modules import _installed, is_project_module, trusted_modules
from trainrig.config.target_allowlist import (
    check_callable_name,
    check_targets,
    check_targets_resolve,
    is_allowed,
)

NETS = """
def build_net(input_shape, num_classes):
    return ("net", tuple(input_shape), num_classes)
"""


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    importlib.invalidate_caches()  # the import system caches folder listings


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A project directory, the working directory and first on sys.path as `trainrig` runs;
    the modules imported from it are forgotten afterwards (every test names its package mypkg)."""
    root = tmp_path / "project"
    root.mkdir()
    monkeypatch.chdir(root)
    monkeypatch.syspath_prepend(str(root))
    yield root
    for name in [name for name, module in sys.modules.items() if _imported_from(module, root)]:
        del sys.modules[name]


def _imported_from(module: object, root: Path) -> bool:
    spec = getattr(module, "__spec__", None)
    places = [spec.origin, *(spec.submodule_search_locations or [])] if spec else []
    return any(isinstance(p, str) and root in Path(p).parents for p in places)


def test_a_package_and_a_module_of_the_working_directory_are_the_projects(project: Path) -> None:
    _write(project, {"mypkg/__init__.py": "", "mypkg/nets.py": NETS, "helpers.py": NETS})
    for target in ("mypkg.nets.build_net", "helpers.build_net", "mypkg"):
        assert is_project_module(target)
        assert is_allowed(target)
    check_callable_name("model._target_", "mypkg.nets.build_net")
    check_targets_resolve({"model": {"_target_": "helpers.build_net"}}, allow_any=False)


def test_a_namespace_package_of_the_project_counts_too(project: Path) -> None:
    _write(project, {"nspkg/nets.py": NETS})
    assert is_project_module("nspkg.nets.build_net")
    check_callable_name("model._target_", "nspkg.nets.build_net")


# antigravity: a standard-library module nothing imports (it opens a web browser), so the
# project's file, first on sys.path, is what find_spec finds: the name alone refuses it
@pytest.mark.parametrize(
    "name", ["os", "subprocess", "builtins", "posix", "shutil", "hydra", "antigravity"]
)
def test_a_file_named_like_a_module_from_elsewhere_does_not_make_it_the_projects(
    project: Path, name: str
) -> None:
    _write(project, {f"{name}.py": "def system(command): ...\ndef run(*a): ...\n"})
    assert not is_project_module(f"{name}.system")
    with pytest.raises(ConfigError, match=f"'{name}.system' is not under trainrig's libraries"):
        check_targets({"model": {"_target_": f"{name}.system"}}, allow_any=False)
    assert not is_project_module("__main__.main")


def test_main_is_not_the_projects_even_when_a_project_module_runs_as_it(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`python -m mypkg.cli` makes the project's file `__main__`: the name still means whatever
    script runs, so a config naming `__main__.build_net` is refused."""
    _write(project, {"mypkg/__init__.py": "", "mypkg/cli.py": NETS})
    spec = importlib.util.find_spec("mypkg.cli")
    assert spec is not None
    monkeypatch.setitem(sys.modules, "__main__", importlib.util.module_from_spec(spec))
    assert importlib.util.find_spec("__main__") is spec  # found under the working directory
    assert not is_project_module("__main__.build_net")
    assert is_project_module("mypkg.cli.build_net")


@pytest.mark.parametrize("folder", ["site-packages", "dist-packages"])  # dist-: Debian's Python
def test_installed_packages_under_the_working_directory_are_not_the_projects(
    project: Path, monkeypatch: pytest.MonkeyPatch, folder: str
) -> None:
    site = project / ".venv" / "lib" / "python3.11" / folder
    _write(site, {"someones/__init__.py": NETS})
    monkeypatch.syspath_prepend(str(site))
    assert not is_project_module("someones.build_net")
    assert not is_allowed("someones.build_net")


def test_files_of_the_python_installation_are_installed(project: Path) -> None:
    """`_installed` (the module's own helper) on each kind of place, without a project there."""
    stdlib, purelib = (Path(sysconfig.get_path(kind)) for kind in ("stdlib", "purelib"))
    assert _installed(stdlib / "json" / "__init__.py")
    assert _installed(stdlib)
    # a venv's own lib/pythonX.Y (the base's stdlib is elsewhere); else the stdlib's folder
    assert _installed(Path(sysconfig.get_path("platstdlib")) / "somemodule.py")
    assert _installed(purelib / "torch" / "__init__.py")
    assert not _installed(project / "mypkg" / "__init__.py")


def test_a_module_outside_the_working_directory_is_not_the_projects(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = project.parent / "elsewhere"
    _write(elsewhere, {"otherlib/__init__.py": NETS})
    monkeypatch.syspath_prepend(str(elsewhere))
    assert not is_project_module("otherlib.build_net")
    with pytest.raises(ConfigError, match=r"this project's modules \(under .*project\)"):
        check_callable_name("model._target_", "otherlib.build_net")


def test_an_object_the_project_imports_from_elsewhere_is_refused_once_resolved(
    project: Path,
) -> None:
    _write(project, {"mypkg/__init__.py": "", "mypkg/nets.py": f"from os import system\n{NETS}"})
    assert is_allowed("mypkg.nets.system")  # by its name; not by what it is
    with pytest.raises(ConfigError, match=r"'mypkg.nets.system' \(which is posix.system\)"):
        check_callable_name("model._target_", "mypkg.nets.system")


def test_the_project_directory_goes_first_on_sys_path_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", ["/somewhere/bin", "/lib"])
    put_project_on_path()
    put_project_on_path()
    assert sys.path == [str(tmp_path), "/somewhere/bin", "/lib"]
    monkeypatch.setattr(sys, "path", ["/lib", ""])  # already there, as `python -c` puts it
    put_project_on_path()
    assert sys.path == ["/lib", ""]


# ------------------------------------------------------------------ trusted_modules


def test_trusted_modules_are_read_from_the_projects_pyproject(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert trusted_modules() == ()
    (project / "pyproject.toml").write_text(
        '[project]\nname = "mine"\n\n[tool.trainrig]\ntrusted_modules = ["otherlib", "a.b"]\n'
    )
    assert trusted_modules() == ("otherlib", "a.b")
    elsewhere = project.parent / "elsewhere"
    _write(elsewhere, {"otherlib/__init__.py": NETS, "untrusted/__init__.py": NETS})
    monkeypatch.syspath_prepend(str(elsewhere))
    check_callable_name("model._target_", "otherlib.build_net")
    assert not is_allowed("untrusted.build_net")
    assert not is_allowed("a.bc.x")  # a prefix of the name is not its module


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ('trusted_modules = "timm"', "expected a list of module names"),
        ("trusted_modules = [1, 2]", "expected a list of module names"),
        ('trusted_modules = ["timm", "not a name"]', "expected a list of module names"),
        ('trusted_modules = ["subprocess"]', "'subprocess' is a module of Python's standard"),
        ('trusted_modules = ["os.path"]', "'os.path' is a module of Python's standard"),
        ('trusted_modules = ["timm"', "cannot read the file as TOML"),
    ],
)
def test_a_bad_trusted_modules_names_the_file_and_key(
    project: Path, content: str, problem: str
) -> None:
    (project / "pyproject.toml").write_text(f"[tool.trainrig]\n{content}\n")
    expected = f"{project / 'pyproject.toml'}: [tool.trainrig] trusted_modules: {problem}"
    with pytest.raises(ConfigError) as raised:
        check_targets({"model": {"_target_": "trainrig.models.mlp.build_mlp"}}, allow_any=False)
    assert str(raised.value).startswith(expected)
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize("kind", ["a folder", "not UTF-8"])
def test_a_pyproject_that_cannot_be_read_is_reported_in_one_line(project: Path, kind: str) -> None:
    pyproject = project / "pyproject.toml"
    if kind == "a folder":  # stat works, reading fails (OSError)
        pyproject.mkdir()
    else:
        pyproject.write_bytes(b'[tool.trainrig]\ntrusted_modules = ["caf\xe9"]\n')
    expected = f"{pyproject}: [tool.trainrig] trusted_modules: cannot read the file as TOML ("
    with pytest.raises(ConfigError) as raised:
        trusted_modules()
    assert str(raised.value).startswith(expected)
    assert "\n" not in str(raised.value)


# ------------------------------------------------------------------ modules that do not import


@pytest.mark.parametrize(
    ("source", "last_line"),
    [
        ("import nosuchlib\n", "ModuleNotFoundError: No module named 'nosuchlib'"),
        ("def build_net(:\n", "SyntaxError: .* \\(nets.py, line 1\\)"),  # words vary by version
        ("raise RuntimeError('no GPU here\\nnone at all')\n", "RuntimeError: none at all"),
    ],
)
def test_a_project_module_that_fails_to_import_is_named_with_its_file_and_error(
    project: Path, source: str, last_line: str
) -> None:
    _write(project, {"mypkg/__init__.py": "", "mypkg/nets.py": source})
    expected = re.escape(
        f"model._target_: could not import mypkg.nets (found at {project}/mypkg/nets.py, "
        f"searched from {project}): "
    )
    for allow_any in (False, True):
        with pytest.raises(ConfigError) as raised:
            check_targets_resolve({"model": {"_target_": "mypkg.nets.build_net"}}, allow_any)
        assert re.fullmatch(expected + last_line, str(raised.value))


def test_a_name_missing_from_a_project_module_names_the_module(project: Path) -> None:
    _write(project, {"mypkg/__init__.py": "", "mypkg/nets.py": NETS})
    with pytest.raises(ConfigError, match=r"'mypkg.nets.build': mypkg.nets \(.*nets.py\) has no"):
        check_callable_name("model._target_", "mypkg.nets.build")
    with pytest.raises(ConfigError, match=r"'mypkg.netz.build': mypkg \(.*\) has no 'netz'"):
        check_callable_name("model._target_", "mypkg.netz.build")


def test_a_module_found_nowhere_says_where_it_was_searched(project: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        check_targets({"model": {"_target_": "notmypkg.nets.build_net"}}, allow_any=False)
    message = str(raised.value)
    assert message.startswith(
        f"model._target_: 'notmypkg.nets.build_net': no module 'notmypkg' in {project} "
        f"(sys.path starts {project}, "
    )
    assert "run trainrig from your project's root" in message


def test_a_lazily_imported_module_that_fails_to_import_is_refused_in_one_line(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Looking up a lazy module (importlib.util.LazyLoader) runs it, which may raise ImportError."""
    _write(project, {"lazymod.py": "raise ImportError('lazymod needs libfoo')\n"})
    spec = importlib.util.find_spec("lazymod")
    assert spec is not None and spec.loader is not None
    spec.loader = importlib.util.LazyLoader(spec.loader)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setitem(sys.modules, "lazymod", module)
    with pytest.raises(
        ConfigError, match=r"^m\._target_: 'lazymod.build_net' is not under trainrig's"
    ):
        check_targets({"m": {"_target_": "lazymod.build_net"}}, allow_any=False)


def test_a_module_whose_spec_claims_a_file_it_does_not_name_is_not_the_projects(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An import hook may build such a spec (`has_location` set, no `origin`)."""
    spec = ModuleSpec("generated", loader=None, origin=None)
    spec.has_location = True
    monkeypatch.setitem(sys.modules, "generated", importlib.util.module_from_spec(spec))
    assert not is_project_module("generated.build_net")
    assert not is_allowed("generated.build_net")


def test_a_module_whose_origin_is_not_a_file_is_not_the_projects(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An import hook may name where a module came from without a file (`has_location` unset):
    that origin is no path under the working directory."""
    spec = ModuleSpec("generated", loader=None, origin="made by an import hook")
    assert not spec.has_location
    monkeypatch.setitem(sys.modules, "generated", importlib.util.module_from_spec(spec))
    assert not is_project_module("generated.build_net")
    assert not is_allowed("generated.build_net")
