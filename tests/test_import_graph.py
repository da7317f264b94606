"""The package's import graph, read from the source (ast): no circles, and the training core
does not know the sweeps or the compression methods by name.

Every `import trainrig.x` and `from trainrig.x import y` counts, at module level or inside a
function (a deferred import is still a dependency: a circle through one only waits for the first
call to break), and inside `if TYPE_CHECKING:` too (mypy reads those). `from trainrig.x import y`
is an edge to `trainrig.x.y` when that is a module, else to `trainrig.x` (a package's
`__init__`, e.g. `trainrig.config.schema`). The parent packages Python runs on the way to a
submodule are not counted: they hold no imports of their own but `config.schema`'s, which are
its own edges.
"""

from __future__ import annotations

import ast
from pathlib import Path

import trainrig

PACKAGE = Path(trainrig.__file__).parent
ROOT = "trainrig"


def _module_names() -> dict[str, Path]:
    names = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names[".".join(parts)] = path
    return names


def _imported(node: ast.AST, here: str, is_package: bool, modules: set[str]) -> set[str]:
    """The trainrig modules one import statement names."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names if alias.name.split(".")[0] == ROOT}
    if not isinstance(node, ast.ImportFrom):
        return set()
    if node.level:  # relative: from . / .. import
        base = here.split(".") if is_package else here.split(".")[:-1]
        base = base[: len(base) - node.level + 1]
        source = ".".join([*base, *([node.module] if node.module else [])])
    else:
        source = node.module or ""
    if source.split(".")[0] != ROOT:
        return set()
    found = set()
    for alias in node.names:
        child = f"{source}.{alias.name}"
        found.add(child if child in modules else source)
    return found


def import_graph() -> dict[str, set[str]]:
    """module -> the trainrig modules it imports, at any scope (a package is its __init__)."""
    files = _module_names()
    modules = set(files)
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        is_package = path.name == "__init__.py"
        edges: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            edges |= _imported(node, name, is_package, modules)
        graph[name] = {e for e in edges if e != name and e in modules}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle as [a, b, ..., a], or None (depth-first search, three colours)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


def test_the_graph_sees_the_imports_it_should() -> None:
    graph = import_graph()
    assert "trainrig.training.build" in graph["trainrig.training.runner"]
    # a function-level import counts: the distillation teacher is built by the training core
    assert "trainrig.training.build" in graph["trainrig.compression.distillation"]


def test_a_circle_is_found_and_named() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_trainrig_has_no_import_circles() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, "import circle: " + " -> ".join(cycle or [])


def test_the_training_core_imports_neither_sweeps_nor_compression() -> None:
    """Features hand their callbacks and compression methods to the runner through the config
    (docs/architecture.md, "Hooks"), so the core never names them."""
    forbidden = ("trainrig.sweeps", "trainrig.compression")
    found = [
        f"{module} imports {target}"
        for module, targets in sorted(import_graph().items())
        if module.startswith("trainrig.training")
        for target in sorted(targets)
        if target.startswith(forbidden)
    ]
    assert not found, "\n".join(found)
