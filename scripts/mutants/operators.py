"""One-token bugs made from a module's syntax tree: each mutant changes one node.

`mutants_of(tree)` lists every mutant of a module in a fixed order; `mutated(tree, i)` returns
the tree with mutant `i` applied (compiled as is, so line numbers stay the original ones).
Docstrings, annotations, f-strings and `__all__` are left alone: changing them changes no
behaviour a test could see.
"""

from __future__ import annotations

import ast
import copy
from dataclasses import dataclass

_COMPARE_SWAPS: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
}
_BINOP_SWAPS: dict[type[ast.operator], type[ast.operator]] = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Div,
    ast.Mod: ast.FloorDiv,
    ast.Pow: ast.Mult,
}


@dataclass(frozen=True)
class Mutant:
    """Where a mutant is and what it changes (`before` -> `after`, both as source text)."""

    index: int
    line: int
    operator: str
    before: str
    after: str

    def describe(self) -> str:
        return f"#{self.index} line {self.line} {self.operator}: {self.before!r} -> {self.after!r}"


class _Mutator(ast.NodeTransformer):
    """Numbers every possible mutation in visiting order; applies the one numbered `target`."""

    def __init__(self, target: int | None) -> None:
        self.target = target
        self.sites: list[Mutant] = []

    def _offer(self, node: ast.AST, operator: str, replacement: ast.AST) -> ast.AST | None:
        """Register one mutation of `node`; the replacement when it is the target, else None."""
        index = len(self.sites)
        line = getattr(node, "lineno", 0)
        before, after = ast.unparse(node), ast.unparse(replacement)
        self.sites.append(Mutant(index, line, operator, before, after))
        if index != self.target:
            return None
        return ast.fix_missing_locations(ast.copy_location(replacement, node))

    def _first(self, node: ast.AST, offers: list[tuple[str, ast.AST]]) -> ast.AST:
        chosen: ast.AST | None = None
        for operator, replacement in offers:
            hit = self._offer(node, operator, replacement)
            chosen = chosen or hit
        return chosen or node

    # Parts that change nothing a test could see.
    def visit_arg(self, node: ast.arg) -> ast.AST:
        return node

    def visit_JoinedStr(self, node: ast.JoinedStr) -> ast.AST:
        return node

    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.AST:
        if node.value is not None:
            node.value = self.visit(node.value)
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        return self._function(node)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> ast.AST:
        return self._function(node)

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> ast.AST:
        node.decorator_list = [self.visit(d) for d in node.decorator_list]
        node.args = self.visit(node.args)
        node.body = self._statements(node.body)
        return node

    def visit_ClassDef(self, node: ast.ClassDef) -> ast.AST:
        node.body = self._statements(node.body)
        return node

    def visit_Module(self, node: ast.Module) -> ast.AST:
        node.body = self._statements(node.body)
        return node

    def _statements(self, body: list[ast.stmt]) -> list[ast.stmt]:
        kept: list[ast.stmt] = []
        for statement in body:
            if (
                _is_docstring(statement)
                or _is_dunder_all(statement)
                or _is_type_checking(statement)
            ):
                kept.append(statement)
                continue
            result = self.visit(statement)
            kept.extend(result if isinstance(result, list) else [result])
        return kept

    # The mutations.
    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        self.generic_visit(node)
        offers: list[tuple[str, ast.AST]] = []
        for i, op in enumerate(node.ops):
            swap = _COMPARE_SWAPS.get(type(op))
            if swap is not None:
                changed = copy.deepcopy(node)
                changed.ops[i] = swap()
                offers.append(("compare", changed))
        return self._first(node, offers)

    def visit_BoolOp(self, node: ast.BoolOp) -> ast.AST:
        self.generic_visit(node)
        flipped = ast.Or() if isinstance(node.op, ast.And) else ast.And()
        offers: list[tuple[str, ast.AST]] = [
            ("and-or", ast.BoolOp(op=flipped, values=copy.deepcopy(node.values)))
        ]
        for i in range(len(node.values)):
            rest = [copy.deepcopy(v) for j, v in enumerate(node.values) if j != i]
            offers.append(
                ("drop-operand", rest[0] if len(rest) == 1 else ast.BoolOp(node.op, rest))
            )
        return self._first(node, offers)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.op, ast.Not):
            return self._first(node, [("drop-not", copy.deepcopy(node.operand))])
        return node

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        swap = _BINOP_SWAPS.get(type(node.op))
        if swap is None:
            return node
        changed = ast.BinOp(copy.deepcopy(node.left), swap(), copy.deepcopy(node.right))
        return self._first(node, [("arithmetic", changed)])

    def visit_If(self, node: ast.If) -> ast.AST:
        self.generic_visit(node)
        changed = copy.deepcopy(node)
        changed.test = ast.Constant(False)
        return self._first(node, [("skip-if", changed)])

    def visit_Return(self, node: ast.Return) -> ast.AST:
        self.generic_visit(node)
        if node.value is None or _is_none(node.value):
            return node
        return self._first(node, [("return-none", ast.Return(ast.Constant(None)))])

    def visit_Expr(self, node: ast.Expr) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.value, ast.Call):
            return self._first(node, [("drop-call", ast.Pass())])
        return node

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        value = node.value
        changed: object
        if isinstance(value, bool):
            changed = not value
        elif isinstance(value, int | float):
            changed = value + 1
        elif isinstance(value, str):
            changed = f"{value}XX"
        else:
            return node
        return self._first(node, [("constant", ast.Constant(changed))])

    def visit_List(self, node: ast.List) -> ast.AST:
        return self._collection(node)

    def visit_Tuple(self, node: ast.Tuple) -> ast.AST:
        return self._collection(node)

    def visit_Set(self, node: ast.Set) -> ast.AST:
        return self._collection(node)

    def _collection(self, node: ast.List | ast.Tuple | ast.Set) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node, ast.List | ast.Tuple) and not isinstance(node.ctx, ast.Load):
            return node  # an assignment target
        offers: list[tuple[str, ast.AST]] = []
        for i in range(len(node.elts)):
            changed = copy.deepcopy(node)
            del changed.elts[i]
            if isinstance(changed, ast.Set) and not changed.elts:
                continue  # `{}` would be a dict
            offers.append(("remove-element", changed))
        return self._first(node, offers)

    def visit_Dict(self, node: ast.Dict) -> ast.AST:
        self.generic_visit(node)
        offers: list[tuple[str, ast.AST]] = []
        for i in range(len(node.keys)):
            changed = copy.deepcopy(node)
            del changed.keys[i], changed.values[i]
            offers.append(("remove-element", changed))
        return self._first(node, offers)


def _is_none(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _is_docstring(statement: ast.stmt) -> bool:
    return isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)


def _is_dunder_all(statement: ast.stmt) -> bool:
    targets = statement.targets if isinstance(statement, ast.Assign) else []
    return any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets)


def _is_type_checking(statement: ast.stmt) -> bool:
    return isinstance(statement, ast.If) and ast.unparse(statement.test).endswith("TYPE_CHECKING")


def mutants_of(tree: ast.Module) -> list[Mutant]:
    """Every mutant of the module `tree`, numbered in visiting order."""
    mutator = _Mutator(target=None)
    mutator.visit(copy.deepcopy(tree))
    return mutator.sites


def mutated(tree: ast.Module, index: int) -> ast.Module:
    """A copy of `tree` with mutant `index` applied."""
    mutator = _Mutator(target=index)
    result = mutator.visit(copy.deepcopy(tree))
    assert isinstance(result, ast.Module)
    return ast.fix_missing_locations(result)
