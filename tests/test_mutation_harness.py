"""The mutation harness's operators (scripts/mutants, run by scripts/mutation, not in CI)."""

from __future__ import annotations

import ast
import sys

from .conftest import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "scripts"))

from mutants.operators import mutants_of, mutated

SOURCE = '''
"""A docstring is never mutated."""
__all__ = ["f"]
LIMITS = (1, 2)


def f(x: int = 3) -> bool:
    """Neither is this one, nor the annotations."""
    if x < 2 and not x:
        print(x)
    return x + 1 == 4
'''


def _changes() -> list[tuple[str, str, str]]:
    return [(m.operator, m.before, m.after) for m in mutants_of(ast.parse(SOURCE))]


def test_each_operator_makes_its_one_token_change() -> None:
    changes = _changes()
    for expected in [
        ("remove-element", "(1, 2)", "(2,)"),
        ("constant", "3", "4"),
        ("compare", "x < 2", "x <= 2"),
        ("and-or", "x < 2 and (not x)", "x < 2 or not x"),
        ("drop-operand", "x < 2 and (not x)", "not x"),
        ("drop-not", "not x", "x"),
        ("drop-call", "print(x)", "pass"),
        ("arithmetic", "x + 1", "x - 1"),
        ("return-none", "return x + 1 == 4", "return None"),
    ]:
        assert expected in changes
    assert ("skip-if", "if x < 2 and (not x):\n    print(x)", "if False:\n    print(x)") in changes


def test_docstrings_annotations_and_dunder_all_are_left_alone() -> None:
    constants = sorted(before for operator, before, _ in _changes() if operator == "constant")
    assert constants == ["1", "1", "2", "2", "3", "4"]  # no string, no type name


def test_a_mutant_changes_only_its_node_and_keeps_line_numbers() -> None:
    tree = ast.parse(SOURCE)
    index = next(m.index for m in mutants_of(tree) if m.after == "x <= 2")
    changed = mutated(tree, index)
    assert ast.unparse(changed) == ast.unparse(tree).replace("x < 2", "x <= 2")
    namespace: dict[str, object] = {}
    exec(compile(changed, "<mutant>", "exec"), namespace)
    function = namespace["f"]
    assert callable(function)
    assert function.__code__.co_firstlineno == 7
