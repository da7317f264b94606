"""docs/architecture.md's Layout table names every top-level entry of the repository and of
src/trainrig/, and nothing else; the package's top level stays small."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import REPO_ROOT

ARCHITECTURE = REPO_ROOT / "docs" / "architecture.md"
PACKAGE = REPO_ROOT / "src" / "trainrig"
MAX_PACKAGE_ENTRIES = 14  # a dozen packages by concern, plus __init__ and __main__
_ROW = re.compile(r"^\|\s*`([^`]+)`\s*\|\s*(.*?)\s*\|\s*$")


def layout_table(text: str) -> dict[str, str]:
    """The Layout section's rows: path (directories end with `/`) -> what it holds."""
    match = re.search(r"^## Layout\n(.*?)(?=^## )", text, re.MULTILINE | re.DOTALL)
    assert match, "docs/architecture.md has no '## Layout' section followed by another section"
    rows: dict[str, str] = {}
    for line in match.group(1).splitlines():
        row = _ROW.match(line)
        if row:
            assert row.group(1) not in rows, f"Layout table lists {row.group(1)} twice"
            rows[row.group(1)] = row.group(2)
    return rows


def _named(path: Path, prefix: str) -> str:
    """How the table names `path`: relative to the repository, `/` after a directory."""
    return prefix + path.name + ("/" if path.is_dir() else "")


def package_entries() -> set[str]:
    """src/trainrig/'s top-level entries, without caches."""
    return {
        _named(entry, "src/trainrig/")
        for entry in PACKAGE.iterdir()
        if entry.name != "__pycache__" and not entry.name.endswith(".pyc")
    }


def repository_entries() -> set[str] | None:
    """The repository's top-level entries that git tracks (None outside a git checkout)."""
    git = shutil.which("git")
    if git is None:
        return None
    listed = subprocess.run(
        [git, "ls-files", "-z"], cwd=REPO_ROOT, capture_output=True, text=True, check=False
    )
    if listed.returncode != 0:
        return None
    tops = {name.split("/", 1)[0] for name in listed.stdout.split("\0") if name}
    return {_named(REPO_ROOT / top, "") for top in tops if (REPO_ROOT / top).exists()}


def test_layout_table_names_every_package_entry() -> None:
    table = layout_table(ARCHITECTURE.read_text(encoding="utf-8"))
    in_table = {path for path in table if path.startswith("src/trainrig/")}
    in_tree = package_entries()
    assert sorted(in_tree - in_table) == [], "in src/trainrig/ but not in the Layout table"
    assert sorted(in_table - in_tree) == [], "in the Layout table but not in src/trainrig/"


def test_layout_table_names_every_repository_entry() -> None:
    in_tree = repository_entries()
    if in_tree is None:
        pytest.skip("not a git checkout: the tracked top-level entries are unknown")
    table = layout_table(ARCHITECTURE.read_text(encoding="utf-8"))
    in_table = {path for path in table if "/" not in path.rstrip("/")}
    assert sorted(in_tree - in_table) == [], "tracked at the top level but not in the Layout table"
    assert sorted(in_table - in_tree) == [], "in the Layout table but not tracked at the top level"


def test_every_layout_row_exists_and_says_what_it_holds() -> None:
    table = layout_table(ARCHITECTURE.read_text(encoding="utf-8"))
    for path, holds in table.items():
        on_disk = REPO_ROOT / path.rstrip("/")
        assert on_disk.exists(), f"Layout table names {path}, which does not exist"
        assert on_disk.is_dir() == path.endswith("/"), f"{path}: a directory ends with '/'"
        assert holds, f"{path}: the Layout table says nothing about what it holds"


def test_package_top_level_stays_small() -> None:
    entries = package_entries()
    assert len(entries) <= MAX_PACKAGE_ENTRIES, sorted(entries)


def test_layout_check_sees_a_missing_and_an_extra_row() -> None:
    text = ARCHITECTURE.read_text(encoding="utf-8")
    without_cli = text.replace("| `src/trainrig/cli/` |", "| cli |", 1)
    assert "src/trainrig/cli/" in package_entries() - set(layout_table(without_cli))
    extra = text.replace("## Flow", "| `src/trainrig/utils.py` | helpers |\n\n## Flow", 1)
    assert set(layout_table(extra)) - package_entries() >= {"src/trainrig/utils.py"}
