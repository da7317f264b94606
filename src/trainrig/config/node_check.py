"""One config node checked against a schema dataclass (`signature.schema_of`): keys and types
(OmegaConf), required values, ranges and choices (field metadata). The option's cross-field rule
is `signature.check_arguments`' to run, after this check.

Shared by `validate` (a composed config) and `signature.check_arguments` (a builder called from
Python), so both raise the same message.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import math
import typing
from typing import Any

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import ConfigKeyError, KeyValidationError, ValidationError

from trainrig.config.errors import ConfigError

BOUND_NAMES = ("gt", "ge", "lt", "le")


def _dotted(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)


@functools.cache  # merge copies it; a config validated per sweep trial builds each once
def _structured(schema: type) -> DictConfig:
    built = OmegaConf.structured(schema)
    assert isinstance(built, DictConfig)
    return built


class _Node:
    """A node's values, hashable by their keys and values (in any order, `_target_` and the other
    underscored keys left out): what `validate` checked passes again when the runner calls the
    builder with the same arguments, so the check is not repeated."""

    def __init__(self, values: dict[str, Any]) -> None:
        shown = sorted((str(k), v) for k, v in values.items() if not str(k).startswith("_"))
        self.values, self.text = values, repr(shown)

    def __hash__(self) -> int:
        return hash(self.text)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Node) and self.text == other.text


# A sweep validates every trial's config, and most of its nodes are the same in every trial;
# the runner's builders check their arguments again. A failed check raises, so only the passed
# ones are remembered (keyed without the path, which only failures print).
_PASSED: dict[tuple[type, _Node], None] = {}
MAX_REMEMBERED = 1024


def check_node(path: str, node: dict[str, Any], schema: type) -> None:
    """Check keys and types (OmegaConf), required values, ranges and choices."""
    key = (schema, _Node(node))
    if key in _PASSED:
        return
    _check(path, node, schema)
    if len(_PASSED) >= MAX_REMEMBERED:
        _PASSED.clear()
    _PASSED[key] = None


def _check(path: str, node: dict[str, Any], schema: type) -> None:
    names = [f.name for f in dataclasses.fields(schema) if not f.name.startswith("_")]
    try:
        merged = OmegaConf.merge(_structured(schema), node)
    except ConfigKeyError as error:
        close = difflib.get_close_matches(str(error.key), names, n=3)
        hint = f" (closest: {', '.join(close)})" if close else ""
        raise ConfigError(
            f"{_dotted(path, error.key)}: unknown key{hint}. Allowed keys: {', '.join(names)}"
        ) from None
    except KeyValidationError as error:  # `{a: 2}` for a dict[int, int]
        raise ConfigError(
            f"{_dotted(path, error.full_key)}: expected a key of type "
            f"{_key_type(error.ref_type)}, got {error.key!r}"
        ) from None
    except ValidationError as error:
        key = str(error.full_key)  # `sizes[0]`, `tags.a` for an item: not a field's name
        expected = _field_type(schema, key)
        where = _dotted(path, key)
        raise ConfigError(f"{where}: expected {expected}, got {error.value!r}") from None
    for key in sorted(OmegaConf.missing_keys(merged)):
        raise ConfigError(
            f"{_dotted(path, key)}: a value is required (set {_dotted(path, key)}=...)"
        )
    values: dict[str, Any] = OmegaConf.to_container(merged)  # type: ignore[assignment]
    for spec in dataclasses.fields(schema):
        _check_bounds(_dotted(path, spec.name), values[spec.name], spec.metadata)


def _field_type(schema: type, key: str) -> str:
    """The type a field's value must have as messages name it (`float or null`, `list[int]`);
    `another type` for an item of a list or mapping (its key is not a field's)."""
    for spec in dataclasses.fields(schema):
        if spec.name == key:
            text = str(spec.metadata["type"])
            if text.startswith("Optional["):
                return f"{text.removeprefix('Optional[')[:-1]} or null"
            return text
    return "another type"


def _key_type(mapping: Any) -> str:
    """The key type of a mapping node's type (`Dict[int, int]`, or `Optional` of one)."""
    typed = next(t for t in (mapping, *typing.get_args(mapping)) if typing.get_origin(t) is dict)
    return str(typing.get_args(typed)[0].__name__)


def _check_kind(key: str, value: Any, rule: Any) -> None:
    """A union's value (`int | float`, `str | dict`): one of its members' plain types."""
    kinds = rule.get("kinds") if rule else None
    if kinds is None or (value is None and rule["optional"]):
        return
    if isinstance(value, bool):
        fits = bool in kinds
    elif isinstance(value, int):
        fits = int in kinds or float in kinds
    else:
        fits = isinstance(value, kinds)
    if not fits:
        names = [k.__name__ for k in kinds] + (["null"] if rule["optional"] else [])
        raise ConfigError(f"{key}: expected {' or '.join(names)}, got {value!r}")


def _check_bounds(key: str, value: Any, rule: Any) -> None:
    _check_kind(key, value, rule)
    if not rule or value is None:
        return
    for item in value if isinstance(value, list) else [value]:
        choices = rule.get("choices")
        if choices is not None and item not in choices:
            raise ConfigError(
                f"{key}: {item!r} is not allowed; choose one of {', '.join(map(str, choices))}"
            )
        if not isinstance(item, int | float) or isinstance(item, bool):
            continue
        if math.isinf(item) and any(rule.get(name) is not None for name in BOUND_NAMES):
            raise ConfigError(f"{key}: must be a finite number, got {item}")
        limits = (
            ("gt", lambda v, b: v > b, ">"),
            ("ge", lambda v, b: v >= b, ">="),
            ("lt", lambda v, b: v < b, "<"),
            ("le", lambda v, b: v <= b, "<="),
        )
        for name, holds, symbol in limits:
            bound = rule.get(name)
            if bound is not None and not holds(item, bound):
                raise ConfigError(f"{key}: must be {symbol} {bound}, got {item}")
