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
from trainrig.training.run_options import NESTED, TOP_LEVEL

ROOT = Path(__file__).resolve().parents[1]
OPTION_FILES = sorted((ROOT / "conf").glob("*/*.yaml")) + sorted(
    (ROOT / "experiments").glob("*.yaml")
)

NOT_KEYS = ("defaults", "hydra")  # a command file's Hydra parts
# Defaults trainrig chooses on purpose (lightning_options.py says why), with Lightning's own.
DIFFERS_FROM_LIGHTNING: dict[tuple[str, str], Any] = {
    ("trainer", "max_epochs"): None,  # Lightning sets it to 1000 with a warning
    ("early_stopping", "mode"): "min",  # trainrig's option states the metric's direction
}


def _nodes(data: Any, where: str) -> list[tuple[str, dict[str, Any]]]:
    """Every mapping with a `_target_` trainrig describes, anywhere in the file."""
    found: list[tuple[str, dict[str, Any]]] = []
    if isinstance(data, dict):
        if isinstance(data.get("_target_"), str) and builder_for(data["_target_"]) is not None:
            found.append((where, data))
        for key, value in data.items():
            found += _nodes(value, f"{where}.{key}" if where else str(key))
    return found


def _targets(data: Any) -> list[str]:
    """Every `_target_` named anywhere in a file."""
    if isinstance(data, dict):
        own = [data["_target_"]] if isinstance(data.get("_target_"), str) else []
        return own + [t for value in data.values() for t in _targets(value)]
    if isinstance(data, list):
        return [t for value in data for t in _targets(value)]
    return []


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
            # (data.path, distill's teacher), or an optional package not here
            message = str(error)
            if not (
                "not installed" in message
                or "a value is required" in message
                or "give the teacher" in message
                or any(f".{k}:" in message for k in unresolved)
            ):
                raise


@pytest.mark.parametrize("path", OPTION_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_target_of_an_option_file_has_a_signature(path: Path) -> None:
    """No built-in option or experiment escapes the checks above (compression included)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    for target in _targets(data):
        assert builder_for(target) is not None, f"{path}: {target} has no @option signature"


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


def test_a_compression_class_checks_its_arguments_as_the_cli_does() -> None:
    """A compression method is a dataclass option: constructing it runs the config's check."""
    from trainrig.compression.distillation import Distillation
    from trainrig.compression.pruning import Pruning
    from trainrig.compression.static_quantization import StaticQuantization

    with pytest.raises(
        ConfigError,
        match=r"^compression\.method: 'typo' is not allowed; choose one of global_l1, l1, random, "
        r"structured$",
    ):
        Pruning(method="typo")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"^compression\.amount: must be < 1, got 2"):
        Pruning(amount=2)
    with pytest.raises(ConfigError, match=r"^compression\.backend: 'arm' is not allowed"):
        StaticQuantization(backend="arm")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="give the teacher as teacher_ckpt"):
        Distillation()
    assert isinstance(Pruning(method="l1", amount=0.5), Pruning)
    assert Pruning(method="l1").amount == 0.8


@pytest.mark.parametrize("command", sorted(TOP_LEVEL))
def test_command_file_states_only_what_it_chooses(command: str) -> None:
    """conf/train.yaml etc. hold no top-level key, `checkpoint` or `lr_find` key at its default."""
    data = yaml.safe_load((ROOT / "conf" / f"{command}.yaml").read_text(encoding="utf-8"))
    nodes = {"": (TOP_LEVEL[command], {k: v for k, v in data.items() if k not in NOT_KEYS})}
    nodes.update({key: (NESTED[key], data[key]) for key in NESTED if key in data})
    for where, (declared, given) in nodes.items():
        for key, value in given.items():
            if where == "" and key in NESTED:
                continue
            assert key in config_parameters(declared), f"{command}.yaml: {key} is not declared"
            assert not _same(value, defaults(declared)[key]), f"{command}.yaml: {key} restated"


@pytest.mark.parametrize("declared", [*TOP_LEVEL.values(), *NESTED.values()])
def test_every_run_key_default_satisfies_its_own_annotation(declared: Any) -> None:
    stated = {k: "a value" if v == "???" else v for k, v in defaults(declared).items()}
    check_arguments("", declared, stated)


@pytest.mark.parametrize(
    ("stand_in", "real"),
    [
        ("trainer", "pytorch_lightning.Trainer"),
        ("csv_logger", "pytorch_lightning.loggers.CSVLogger"),
        ("early_stopping", "pytorch_lightning.callbacks.EarlyStopping"),
        ("early_stopping", "trainrig.training.callbacks.early_stopping.EarlyStopping"),
    ],
)
def test_lightning_stand_in_keeps_lightnings_defaults(stand_in: str, real: str) -> None:
    """Each stand-in key is a parameter of the real class (trainrig's EarlyStopping adds
    `restore_best` to Lightning's) with the same default, but for the keys a comment in
    lightning_options.py explains."""
    import importlib
    import inspect

    from trainrig.training import lightning_options

    module, _, name = real.rpartition(".")
    parameters = inspect.signature(getattr(importlib.import_module(module), name)).parameters
    for key, default in defaults(getattr(lightning_options, stand_in)).items():
        if key not in parameters and ("options" in parameters or key == "restore_best"):
            continue  # trainrig's subclass adds restore_best, passes the rest on as **options
        assert key in parameters, f"{real} has no parameter {key}"
        theirs = parameters[key].default
        theirs = "???" if theirs is inspect.Parameter.empty else theirs
        if (stand_in, key) in DIFFERS_FROM_LIGHTNING:
            assert theirs == DIFFERS_FROM_LIGHTNING[stand_in, key], f"{real}.{key} changed"
            continue
        assert _same(default, theirs), f"{stand_in}.{key}: {default!r}, {real} has {theirs!r}"


def test_each_built_in_option_is_found_by_the_target_that_selects_it() -> None:
    """A stand-in by its foreign target (`pytorch_lightning.loggers.CSVLogger`), any other by its
    own dotted name."""
    found = builders()
    assert "pytorch_lightning.loggers.CSVLogger" in found
    for target, builder in found.items():
        assert builder_for(target) is builder, target


def test_an_option_imported_into_another_option_module_is_listed_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`builders()` lists an option under the module that defines it, not one that imports it."""
    from trainrig.config import signature

    (tmp_path / "own_options_home.py").write_text(
        "from trainrig.config.signature import option\n\n\n"
        "@option('demo')\ndef build(width: int = 1) -> None:\n    pass\n",
        encoding="utf-8",
    )
    (tmp_path / "own_options_user.py").write_text(
        "from own_options_home import build\n", encoding="utf-8"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(signature, "OPTION_MODULES", ("own_options_home", "own_options_user"))
    assert list(builders()) == ["own_options_home.build"]
