"""The keyword parameters of a Lightning class's `__init__`, read from the installed package's
source with `ast`, without importing it (importing Lightning takes seconds; parsing its Trainer
file about 15 ms).

Each parameter keeps its name, its default (a literal) and the part of its annotation a config
value can be checked against: `bool`, `int`, `float`, `str`, `Literal`, `Optional`, `Union`, lists
and dicts. A class of Lightning's in an annotation (`Accelerator`, `Profiler`, `timedelta`) is a
`_target_` node, so a mapping; a private alias (`_PRECISION_INPUT`) leaves the parameter unchecked
(`Any`). tests/test_trainer_flags.py compares the names and defaults with `inspect.signature` of
the imported class, so a source this reader misreads fails there.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import inspect
from pathlib import Path
from typing import Any, Literal, Optional, Union

PLAIN = {"bool": bool, "int": int, "float": float, "str": str, "list": list, "dict": dict}
LISTS = {"list", "List", "Iterable", "Sequence", "tuple", "Tuple"}
DICTS = {"dict", "Dict", "Mapping"}


class _Unknown(Exception):
    """An annotation names something this reader cannot see into (a private alias)."""


def source_file(module: str) -> Path:
    """The `.py` file of `module` (e.g. pytorch_lightning.trainer.trainer), found from its
    top-level package's location: `find_spec` of a top-level name imports nothing."""
    top, *rest = module.split(".")
    spec = importlib.util.find_spec(top)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(f"{top} is not installed")
    return Path(next(iter(spec.submodule_search_locations))).joinpath(*rest).with_suffix(".py")


@functools.cache
def init_parameters(module: str, class_name: str) -> tuple[inspect.Parameter, ...]:
    """`class_name.__init__`'s keyword parameters (self and `*args`/`**kwargs` left out), as
    keyword-only parameters with their literal defaults and checkable annotations."""
    tree = ast.parse(source_file(module).read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == class_name:
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name == "__init__":
                    return _parameters(item.args)
    raise LookupError(f"{module} defines no {class_name}.__init__")


def _parameters(args: ast.arguments) -> tuple[inspect.Parameter, ...]:
    positional = [*args.posonlyargs, *args.args][1:]  # without self
    with_defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    pairs = [*zip(positional, with_defaults, strict=True)]
    pairs += [*zip(args.kwonlyargs, args.kw_defaults, strict=True)]
    return tuple(
        inspect.Parameter(
            arg.arg,
            inspect.Parameter.KEYWORD_ONLY,
            default=inspect.Parameter.empty if default is None else _literal(default),
            annotation=annotation(arg.annotation),
        )
        for arg, default in pairs
    )


def _literal(node: ast.expr) -> Any:
    try:
        return ast.literal_eval(node)
    except ValueError:  # e.g. torch.device("cpu"): no value a config could restate
        return inspect.Parameter.empty


def annotation(node: ast.expr | None) -> Any:
    """The checkable type an annotation's AST stands for; `Any` where it cannot be known."""
    try:
        return _type(node) if node is not None else Any
    except _Unknown:
        return Any


def _type(node: ast.expr) -> Any:
    if isinstance(node, ast.Constant) and node.value is None:
        return type(None)
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return _type(ast.parse(node.value, mode="eval").body)  # a quoted annotation
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):  # X | Y
        return Union[_type(node.left), _type(node.right)]  # noqa: UP007 (built at runtime)
    name = _name(node.value if isinstance(node, ast.Subscript) else node)
    if not isinstance(node, ast.Subscript):
        if name in PLAIN:
            return PLAIN[name]
        if name.startswith("_"):
            raise _Unknown(name)
        return dict  # one of Lightning's classes: built from a `_target_` node
    items = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
    if name == "Optional":
        return Optional[_type(items[0])]  # noqa: UP045 (built at runtime)
    if name == "Union":
        return Union[tuple(_type(item) for item in items)]  # noqa: UP007
    if name == "Literal":
        return Literal[tuple(ast.literal_eval(item) for item in items)]
    if name in LISTS:
        return list
    if name in DICTS:
        return dict
    raise _Unknown(name)


def _name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    raise _Unknown(ast.dump(node))
