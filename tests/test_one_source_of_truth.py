"""Every built-in option YAML agrees with its builder's typed signature (the only schema)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from trainrig.config.errors import ConfigError
from trainrig.config.signature import (
    builder_for,
    builders,
    check_arguments,
    config_parameters,
    defaults,
    option_of,
)

ROOT = Path(__file__).resolve().parents[1]
OPTION_FILES = sorted((ROOT / "conf").glob("*/*.yaml")) + sorted(
    (ROOT / "experiments").glob("*.yaml")
)


def _nodes(data: Any, where: str) -> list[tuple[str, dict[str, Any]]]:
    """Every mapping with a `_target_` trainrig describes, anywhere in the file."""
    found: list[tuple[str, dict[str, Any]]] = []
    if isinstance(data, dict):
        if isinstance(data.get("_target_"), str) and builder_for(data["_target_"]) is not None:
            found.append((where, data))
        for key, value in data.items():
            found += _nodes(value, f"{where}.{key}" if where else str(key))
    return found


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    numbers = (int, float)
    if type(a) in numbers and type(b) in numbers:
        return bool(a == b)
    return type(a) is type(b) and a == b


def _is_interpolation(value: Any) -> bool:
    return isinstance(value, str) and "${" in value


@pytest.mark.parametrize("path", OPTION_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_option_file_states_only_what_it_chooses(path: Path) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    for where, node in _nodes(data, ""):
        builder = builder_for(node["_target_"])
        assert builder is not None
        spec = option_of(builder)
        assert spec is not None
        group = spec.group if not where or "." not in where else where
        given = {k: v for k, v in node.items() if not k.startswith("_")}
        allowed = config_parameters(builder)
        for key, value in given.items():
            assert key in allowed, f"{path}: {where}.{key} is not a parameter of {node['_target_']}"
            assert not _same(value, defaults(builder)[key]), (
                f"{path}: {where or group}.{key}: {value!r} restates the signature's default; "
                "delete the line"
            )
        assert node.get("_partial_", False) == spec.partial, f"{path}: _partial_ is {spec.partial}"
        concrete = {k: v for k, v in given.items() if not _is_interpolation(v)}
        unresolved = [k for k in given if k not in concrete]
        try:
            check_arguments(group, builder, concrete)  # every value satisfies its annotation
        except ConfigError as error:  # an `${...}` left out, a value left to the user
            # (data.path), or an optional package not here
            message = str(error)
            if not (
                "not installed" in message
                or "a value is required" in message
                or any(f".{k}:" in message for k in unresolved)
            ):
                raise


@pytest.mark.parametrize("target", sorted(builders()))
def test_every_default_satisfies_its_own_annotation(target: str) -> None:
    builder = builders()[target]
    spec = option_of(builder)
    assert spec is not None
    stated = {k: v for k, v in defaults(builder).items() if v != "???"}
    try:
        check_arguments(spec.group, builder, stated)
    except ConfigError as error:
        if "is not allowed" in str(error) or "must be" in str(error) or "expected" in str(error):
            raise AssertionError(f"{target}: a default breaks its annotation: {error}") from None


def test_a_python_call_raises_the_message_the_cli_prints() -> None:
    from torch import nn

    from trainrig.models.cnn import build_cnn
    from trainrig.training.optimizers import adam, sgd

    with pytest.raises(ConfigError, match=r"^optimizer\.lr: must be > 0, got -1"):
        adam(nn.Linear(2, 2), lr=-1)
    with pytest.raises(ConfigError, match=r"^model\.dropout: must be < 1, got 2"):
        build_cnn((1, 8, 8), 10, dropout=2)
    with pytest.raises(ConfigError, match=r"^optimizer\.nesterov=true needs optimizer\.momentum"):
        sgd(nn.Linear(2, 2), nesterov=True)
