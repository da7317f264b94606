"""Check a composed config against the schemas before anything heavy runs.

Every failure raises `ConfigError` with one message that names the full key and what is allowed.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Any

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import ConfigKeyError, OmegaConfBaseException, ValidationError

from trainrig.config.errors import ConfigError
from trainrig.config.schema import (
    COMPONENT_GROUPS,
    SCHEMAS,
    CheckpointConfig,
    EvalTopLevel,
    LrFindConfig,
    TrainTopLevel,
)
from trainrig.config.schema.cross_group import check_across_groups
from trainrig.config.schema.run import CompressTopLevel
from trainrig.config.signature import builder_for, check_arguments
from trainrig.config.target_allowlist import OPT_IN, check_targets

TOP_LEVEL_SCHEMAS: dict[str, type] = {
    "train": TrainTopLevel,
    "eval": EvalTopLevel,
    "lr_find": TrainTopLevel,
    "compress": CompressTopLevel,
}
NESTED_SCHEMAS: dict[str, type] = {"checkpoint": CheckpointConfig, "lr_find": LrFindConfig}
BOUND_NAMES = ("gt", "ge", "lt", "le")
# Keys that hold named components, each checked as a group's node: loggers, extra callbacks.
MAPPINGS = ("logger", "callbacks")


def resolved(cfg: DictConfig) -> dict[str, Any]:
    """The config as plain containers with every `${...}` resolved."""
    try:
        container = OmegaConf.to_container(cfg, resolve=True, throw_on_missing=False)
    except OmegaConfBaseException as error:
        detail = str(error.msg).splitlines()[0]  # OmegaConf appends full_key and object_type
        raise ConfigError(
            f"{error.full_key or 'config'}: {detail}; fix that ${{...}} interpolation "
            "(`trainrig train --cfg job` shows the keys it may name)"
        ) from None
    assert isinstance(container, dict)
    return container  # type: ignore[return-value]


def validate(cfg: DictConfig, task: str = "train") -> dict[str, Any]:
    """Validate a composed `train` or `eval` config and return it resolved."""
    values = resolved(cfg)
    check_targets(values, allow_any=values.get(OPT_IN) is True)
    groups = [g for g in (*COMPONENT_GROUPS, *MAPPINGS) if g in values]
    nested = [k for k in NESTED_SCHEMAS if k in values]
    top_level = {k: v for k, v in values.items() if k not in groups and k not in nested}
    check_node("", top_level, TOP_LEVEL_SCHEMAS[task])
    for key in nested:
        check_node(key, values[key], NESTED_SCHEMAS[key])
    for group in groups:
        node = values[group] or {}
        if group in MAPPINGS:
            for name, item in node.items():
                check_component(f"{group}.{name}", item)
        else:
            check_component(group, node)
    check_across_groups(values, task)
    return values


def check_component(path: str, node: Any) -> None:
    """Check one group's node: empty means switched off; else its `_target_` picks the schema."""
    if node is None or node == {}:
        return
    if not isinstance(node, dict):
        raise ConfigError(f"{path}: expected a mapping of options, got {node!r}")
    target = node.get("_target_")
    if target is None:
        raise ConfigError(
            f"{path}: an option needs `_target_` (the function or class that builds it); "
            f"keys given: {', '.join(sorted(node))}"
        )
    if not isinstance(target, str):
        raise ConfigError(
            f"{path}._target_: expected the dotted name of a function or class "
            f"(e.g. trainrig.models.cnn.build_cnn), got {target!r}"
        )
    builder = builder_for(target)
    if builder is not None:
        check_arguments(path, builder, node)
        return
    schema = SCHEMAS.get(target)
    if schema is not None:
        check_node(path, node, schema)


def _dotted(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)


@functools.cache  # merge copies it; a config validated per sweep trial builds each once
def _structured(schema: type) -> DictConfig:
    built = OmegaConf.structured(schema)
    assert isinstance(built, DictConfig)
    return built


class _Node:
    """A node's values, hashable by their repr, so a check that passed once is not repeated."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values, self.text = values, repr(values)

    def __hash__(self) -> int:
        return hash(self.text)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Node) and self.text == other.text


def check_node(path: str, node: dict[str, Any], schema: type) -> None:
    """Check keys and types (OmegaConf), required values, ranges and cross-field rules."""
    _check_node_once(path, _Node(node), schema)


# A sweep validates every trial's config, and most of its nodes are the same in every trial;
# a failed check raises, so only the passed ones are remembered.
@functools.lru_cache(maxsize=1024)
def _check_node_once(path: str, wrapped: _Node, schema: type) -> None:
    node = wrapped.values
    allowed = ", ".join(f.name for f in dataclasses.fields(schema) if not f.name.startswith("_"))
    try:
        merged = OmegaConf.merge(_structured(schema), node)
    except ConfigKeyError as error:
        raise ConfigError(
            f"{_dotted(path, error.key)}: unknown key. Allowed keys: {allowed}"
        ) from None
    except ValidationError as error:
        key = _dotted(path, error.full_key or error.key)
        expected = _field_type(schema, str(error.key))
        raise ConfigError(f"{key}: expected {expected}, got {error.value!r}") from None
    for key in sorted(OmegaConf.missing_keys(merged)):
        raise ConfigError(
            f"{_dotted(path, key)}: a value is required (set {_dotted(path, key)}=...)"
        )
    values: dict[str, Any] = OmegaConf.to_container(merged)  # type: ignore[assignment]
    for spec in dataclasses.fields(schema):
        _check_bounds(_dotted(path, spec.name), values[spec.name], spec.metadata)
    schema(**values)  # runs the schema's cross-field rules (__post_init__)


def _field_type(schema: type, key: str) -> str:
    for spec in dataclasses.fields(schema):
        if spec.name == key and "type" in spec.metadata:
            return str(spec.metadata["type"]).replace("Optional[", "").rstrip("]") + (
                " or null" if "Optional" in str(spec.metadata["type"]) else ""
            )
        if spec.name == key:
            return str(spec.type).replace("Optional[", "").rstrip("]") + (
                " or null" if "Optional" in str(spec.type) else ""
            )
    return "another type"


def _check_bounds(key: str, value: Any, rule: Any) -> None:
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
