"""A builder's signature as its option's schema (config/signature.py, config/node_check.py,
config/validate.py), checked in process: defaults, each kind of bad value and its message."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

import pytest
from annotated_types import Ge, Gt, Le, Lt
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig, OmegaConf

from trainrig.config import node_check
from trainrig.config.errors import ConfigError
from trainrig.config.resolvers import register_resolvers
from trainrig.config.signature import check_arguments, defaults, option
from trainrig.config.tree import BUILTIN_CONF_DIR
from trainrig.config.validate import check_component, resolved, validate


def _wide_max(width: int, mode: str, **_: Any) -> None:
    if width > 100 and mode == "max":
        raise ConfigError("demo: a width above 100 needs mode=min")


@option("demo", rule=_wide_max)
def build_demo(
    runtime: int,
    /,
    name: str,
    width: Annotated[int, Gt(0)] = 8,
    rate: Annotated[float, Ge(0), Lt(1)] = 0.5,
    top: Annotated[float, Le(1)] = 1.0,
    mode: Literal["min", "max"] = "min",
    sizes: Sequence[Annotated[int, Ge(1)]] = (1, 2),
    scale: float | None = None,
) -> dict[str, Any]:
    """A demo option: every kind of constraint a signature can hold."""
    return {"width": width, "sizes": sizes}


def test_defaults_are_the_signatures_with_required_keys_as_missing() -> None:
    assert defaults(build_demo) == {
        "name": "???",
        "width": 8,
        "rate": 0.5,
        "top": 1.0,
        "mode": "min",
        "sizes": [1, 2],
        "scale": None,
    }


def test_values_on_each_bound_pass() -> None:
    edge = {"name": "a", "width": 1, "rate": 0.0, "top": 1.0, "mode": "max", "sizes": [1]}
    check_arguments("demo", build_demo, edge)
    check_arguments("demo", build_demo, {**edge, "rate": 0.99, "scale": 2.5, "width": 100})
    check_arguments("demo", build_demo, {**edge, "scale": float("inf")})  # no bound: inf is a value
    assert build_demo(0, name="a", width=3) == {"width": 3, "sizes": (1, 2)}


BAD = [
    (
        {"widht": 1},
        r"demo\.widht: unknown key \(closest: width\)\. Allowed keys: name, width, rate, top, "
        r"mode, sizes, scale$",
    ),
    (
        {"qqqq": 1},  # nothing close: no "(closest: ...)"
        r"demo\.qqqq: unknown key\. Allowed keys: name, width, rate, top, mode, sizes, scale$",
    ),
    ({"width": "wide"}, r"demo\.width: expected int, got 'wide'$"),
    ({"scale": "big"}, r"demo\.scale: expected float or null, got 'big'$"),
    ({"width": 0}, r"demo\.width: must be > 0, got 0$"),
    ({"rate": -0.1}, r"demo\.rate: must be >= 0, got -0\.1$"),
    ({"rate": 1.0}, r"demo\.rate: must be < 1, got 1\.0$"),
    ({"top": 1.5}, r"demo\.top: must be <= 1, got 1\.5$"),
    ({"rate": float("inf")}, r"demo\.rate: must be a finite number, got inf$"),
    ({"mode": "avg"}, r"demo\.mode: 'avg' is not allowed; choose one of min, max$"),
    ({"sizes": [1, 0]}, r"demo\.sizes: must be >= 1, got 0$"),
    ({"width": 101, "mode": "max"}, r"demo: a width above 100 needs mode=min$"),
]


@pytest.mark.parametrize(("values", "message"), BAD, ids=[m[:20] for _, m in BAD])
def test_each_bad_value_is_one_clear_error(values: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=f"^{message}"):
        check_arguments("demo", build_demo, {"name": "a", **values})


def build_either(count: int | str = 0, flag: bool | str = False) -> None:
    """Unions, which OmegaConf cannot hold: checked by their members' plain types."""


def test_a_union_takes_a_value_of_one_of_its_members_only() -> None:
    for values in ({"count": 2, "flag": True}, {"count": "all", "flag": "auto"}):
        check_arguments("u", build_either, values)
    with pytest.raises(ConfigError, match=r"^u\.count: expected int or str, got \[1\]$"):
        check_arguments("u", build_either, {"count": [1]})
    with pytest.raises(ConfigError, match=r"^u\.flag: expected bool or str, got 3$"):
        check_arguments("u", build_either, {"flag": 3})


def build_maybe(count: int | str | None = None) -> None:
    """An optional union: null is one of its values, and its message says so."""


def test_an_optional_union_takes_null_and_names_it_among_its_members() -> None:
    check_arguments("m", build_maybe, {"count": None})
    check_arguments("m", build_maybe, {"count": "all"})
    with pytest.raises(ConfigError, match=r"^m\.count: expected int or str or null, got \[1\]$"):
        check_arguments("m", build_maybe, {"count": [1]})
    with pytest.raises(ConfigError, match=r"^u\.count: expected int or str, got None$"):
        check_arguments("u", build_either, {"count": None})  # not optional: null is refused


def build_share(share: float | str = 0.5) -> None:
    """A float union: an int is a float's value too, as for a plain float."""


def test_a_float_union_takes_an_int() -> None:
    check_arguments("s", build_share, {"share": 1})
    with pytest.raises(ConfigError, match=r"^s\.share: expected float or str, got \[1\]$"):
        check_arguments("s", build_share, {"share": [1]})


def test_the_memory_of_passed_nodes_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """A sweep checks a node per trial; the passed ones are remembered (node_check's private
    `_PASSED`, read here as the only view of that memory) up to MAX_REMEMBERED at a time."""
    monkeypatch.setattr(node_check, "MAX_REMEMBERED", 4)
    sizes = []
    for width in range(1, 12):
        check_arguments("demo", build_demo, {"name": "a", "width": width})
        sizes.append(len(node_check._PASSED))
    assert min(sizes) > 0 and max(sizes) == 4, sizes


def test_remembered_nodes_are_equal_only_with_the_same_values() -> None:
    """The memory's key: a node's values in any order, its underscored keys left out."""
    node = node_check._Node({"a": 1, "b": [2], "_target_": "x"})
    assert node == node_check._Node({"b": [2], "a": 1})
    assert hash(node) == hash(node_check._Node({"b": [2], "a": 1}))
    assert node != node_check._Node({"a": 1, "b": [3]})
    assert node != node.text  # only another node compares


@option("owned", refused={"save_dir": "the run directory is hydra.run.dir"})
def build_owned(name: str = "csv") -> None:
    """A stand-in whose foreign callable takes `save_dir`, which trainrig sets itself."""


def test_a_key_trainrig_sets_itself_is_refused_naming_the_way_out() -> None:
    with pytest.raises(
        ConfigError, match=r"^logger\.save_dir: trainrig sets it; the run directory is hydra"
    ):
        check_arguments("logger", build_owned, {"name": "x", "save_dir": "/tmp"})


@option("bounded")
def build_bounded(
    gt: Annotated[float, Gt(0)] = 1.0,
    ge: Annotated[float, Ge(0)] = 1.0,
    lt: Annotated[float, Lt(1)] = 0.0,
    le: Annotated[float, Le(1)] = 0.0,
) -> None:
    """One bound per key: each alone makes an infinite value an error."""


@pytest.mark.parametrize(
    ("key", "value"), [("gt", "inf"), ("ge", "inf"), ("lt", "-inf"), ("le", "-inf")]
)
def test_any_one_bound_refuses_an_infinite_value(key: str, value: str) -> None:
    with pytest.raises(ConfigError, match=f"^b\\.{key}: must be a finite number, got {value}$"):
        check_arguments("b", build_bounded, {key: float(value)})


def test_an_unknown_key_names_at_most_three_close_keys() -> None:
    @option("close")
    def build_close(rate1: int = 0, rate2: int = 0, rate3: int = 0, rate4: int = 0) -> None:
        """Four keys close to `rate`."""

    with pytest.raises(ConfigError, match=r"^c\.rate: unknown key \(closest: \w+, \w+, \w+\)\."):
        check_arguments("c", build_close, {"rate": 1})


@option("wrapped")
def build_wrapped(
    opt_inner: Annotated[float, Gt(0)] | None = None,
    opt_outer: Annotated[float | None, Gt(0)] = None,
    opt_choice: Literal["a", "b"] | None = None,
    either: Annotated[int | str, Ge(0)] = 0,
    items: list[Annotated[int, Gt(0)]] = [1],  # noqa: B006 (never mutated: a schema's default)
    pair: tuple[Annotated[int, Gt(0)], ...] = (1,),
    anything: Sequence = (),  # type: ignore[type-arg]
    positive: Annotated[list[float], Gt(0)] = [1.0],  # noqa: B006
    counts: Mapping[str, int] | None = None,
    names: dict[str, int] | None = None,
    steps: dict[int, int] | None = None,
    table: dict[int, int] = {},  # noqa: B006
) -> None:
    """Constraints inside and around Optional, unions, sequences and mappings."""


def test_values_of_wrapped_annotations_pass() -> None:
    check_arguments(
        "w",
        build_wrapped,
        {
            "opt_inner": 0.5,
            "opt_outer": 2.0,
            "opt_choice": "b",
            "either": "all",
            "items": [1, 2],
            "pair": [3],
            "anything": ["x", 1],
            "positive": [0.5],
            "counts": {"a": 1},
            "names": {"a": 2},
            "steps": {0: 2},
            "table": {1: 2},
        },
    )


WRAPPED = [
    ({"opt_inner": -1.0}, r"w\.opt_inner: must be > 0, got -1\.0"),
    ({"opt_outer": -1.0}, r"w\.opt_outer: must be > 0, got -1\.0"),
    ({"opt_choice": "c"}, r"w\.opt_choice: 'c' is not allowed; choose one of a, b"),
    ({"either": -1}, r"w\.either: must be >= 0, got -1"),
    ({"either": 1.5}, r"w\.either: expected int or str, got 1\.5"),
    ({"items": [1, 0]}, r"w\.items: must be > 0, got 0"),
    ({"pair": [0]}, r"w\.pair: must be > 0, got 0"),
    ({"anything": 3}, r"w\.anything: expected list\[Any\], got 3"),
    ({"positive": [0.0]}, r"w\.positive: must be > 0, got 0\.0"),
    ({"items": 3}, r"w\.items: expected list\[int\], got 3"),
    ({"counts": 3}, r"w\.counts: expected dict\[str, int\] or null, got 3"),
    ({"counts": {"a": "x"}}, r"w\.counts\.a: expected another type, got 'x'"),
    ({"names": {"items": "x"}}, r"w\.names\.items: expected another type, got 'x'"),
    ({"steps": {"a": 2}}, r"w\.steps\.a: expected a key of type int, got 'a'"),
    ({"names": {1: 2}}, r"w\.names\.1: expected a key of type str, got 1"),
    ({"table": {"a": 2}}, r"w\.table\.a: expected a key of type int, got 'a'"),
    ({"_partial_": "maybe", "opt_inner": 0.25}, r"w\._partial_: expected bool, got 'maybe'"),
    ({"_target_": [1], "opt_inner": 0.75}, r"w\._target_: expected str, got \[1\]"),
]


@pytest.mark.parametrize(("values", "message"), WRAPPED, ids=[m[:24] for _, m in WRAPPED])
def test_a_constraint_holds_through_optional_unions_and_containers(
    values: dict[str, Any], message: str
) -> None:
    """An item's key is named (`names.items`), never mistaken for the field of that name."""
    with pytest.raises(ConfigError, match=f"^{message}$"):
        check_arguments("w", build_wrapped, values)


def build_kinds(
    annotated: Annotated[int, Ge(0)] | str = 0,
    listed: int | list[int] = 0,
    tupled: str | tuple[int, ...] = "",
    sequenced: str | Sequence[int] = "",
    mapped: str | Mapping[str, int] = "",
    floated: float | str = "",
    typed: str | dict[str, int] = "",
) -> None:
    """Union members of each shape, told apart by the plain type of a config value."""


KINDS = [
    ("annotated", 3, 1.5, "int or str"),
    ("listed", [1], "s", "int or list"),
    ("tupled", [1], 1.5, "str or list"),
    ("sequenced", [1], 1.5, "str or list"),
    ("mapped", {"a": 1}, 1.5, "str or dict"),
    ("floated", 1.5, [1], "float or str"),
    ("typed", {"a": 1}, 1.5, "str or dict"),
]


@pytest.mark.parametrize(("key", "good", "bad", "kinds"), KINDS, ids=[k[0] for k in KINDS])
def test_a_union_member_of_any_shape_is_told_by_its_plain_type(
    key: str, good: object, bad: object, kinds: str
) -> None:
    check_arguments("k", build_kinds, {key: good})
    with pytest.raises(ConfigError, match=f"^k\\.{key}: expected {kinds}, got "):
        check_arguments("k", build_kinds, {key: bad})


def test_a_missing_required_value_and_a_top_level_key_are_named() -> None:
    with pytest.raises(
        ConfigError, match=r"^demo\.name: a value is required \(set demo\.name=\.\.\.\)$"
    ):
        check_arguments("demo", build_demo, {})
    with pytest.raises(ConfigError, match=r"^width: must be > 0, got 0$"):
        check_arguments("", build_demo, {"name": "a", "width": 0})
    with pytest.raises(ConfigError, match=r"^demo\.width: must be > 0"):
        build_demo(0, name="a", width=0)  # a Python call is checked as a config is


def test_a_component_node_needs_a_mapping_with_a_string_target() -> None:
    check_component("scheduler", None)  # switched off
    check_component("scheduler", {})
    check_component("model", {"_target_": "mypkg.build", "anything": 1})  # not trainrig's: as is
    with pytest.raises(ConfigError, match=r"^model: expected a mapping of options, got 3$"):
        check_component("model", 3)
    with pytest.raises(
        ConfigError, match=r"^model: an option needs `_target_` .*; keys given: a, b$"
    ):
        check_component("model", {"b": 1, "a": 2})
    with pytest.raises(ConfigError, match=r"^model\._target_: expected the dotted name .*got 5$"):
        check_component("model", {"_target_": 5})
    step = "trainrig.training.schedules.build_step"
    check_component("scheduler", {"_target_": step, "_partial_": True, "step_size": 1})
    with pytest.raises(ConfigError, match=r"^scheduler\.step_size: must be >= 1, got 0$"):
        check_component("scheduler", {"_target_": step, "_partial_": True, "step_size": 0})


def test_a_broken_interpolation_names_its_key() -> None:
    cfg = OmegaConf.create({"a": 1, "b": "${nowhere}"})
    with pytest.raises(ConfigError, match=r"^b: .*; fix that \$\{\.\.\.\} interpolation"):
        resolved(cfg)
    assert resolved(OmegaConf.create({"a": 1, "b": "${a}"})) == {"a": 1, "b": 1}


@pytest.fixture(scope="module")
def composed() -> DictConfig:
    """The `train` config with trainer=smoke, composed once for the tests below."""
    register_resolvers()
    with initialize_config_dir(config_dir=str(BUILTIN_CONF_DIR), version_base="1.3"):
        return compose(config_name="train", overrides=["trainer=smoke"])


def test_validate_expands_init_from_a_path(composed: DictConfig) -> None:
    cfg = composed.copy()
    cfg.init_from = "/runs/a/best.ckpt"  # short for init_from.path
    values = validate(cfg)
    assert values["init_from"] == {"path": "/runs/a/best.ckpt", "strict": False, "freeze": []}


@pytest.mark.parametrize("task", ["train", "lr_find"])
def test_validate_settles_the_metric_choices_of_a_training_config(
    composed: DictConfig, task: str
) -> None:
    cfg = composed.copy()
    cfg.checkpoint.monitor = None
    cfg.checkpoint.mode = None
    values = validate(cfg, task)
    assert (values["checkpoint"]["monitor"], values["checkpoint"]["mode"]) == ("val/acc", "max")


STEP = {"_target_": "trainrig.training.schedules.build_step", "_partial_": True}
INVALID = [
    ("optimizer.lr", -1, r"^optimizer\.lr: must be > 0, got -1"),
    ("trainer.max_epochs", 0, r"^trainer\.max_epochs: must be >= 1, got 0"),
    (
        "callbacks",
        {"extra": {"_target_": "pytorch_lightning.Trainer", "nope": 1}},
        r"^callbacks\.extra\.nope: unknown key",
    ),
    ("seedx", 1, r"^seedx: unknown key"),
    ("model._target_", "os.system", r"^model\._target_: 'os\.system' is not under"),
    ("scheduler", {**STEP, "step_size": 0}, r"^scheduler\.step_size: must be >= 1, got 0"),
    ("repeat", 3, r"^repeat: expected a mapping of options, got 3"),
    ("lr_find.num_training", 1, r"^lr_find\.num_training: must be >= 2, got 1"),
    ("checkpoint", 3, r"^early_stopping\.monitor: .*node `checkpoint` is not a container"),
    (  # a rule across groups (config/cross_group.py), checked once every group passed its own
        "optimized_metric",
        "compression/test_acc",
        r"^optimized_metric: compression/test_acc is a figure of the compressed model, but "
        r"compression=none",
    ),
]


@pytest.mark.parametrize(("key", "value", "message"), INVALID, ids=[c[0] for c in INVALID])
def test_validate_names_the_bad_key_of_a_composed_config(
    composed: DictConfig, key: str, value: object, message: str
) -> None:
    cfg = composed.copy()
    OmegaConf.update(cfg, key, value, merge=False, force_add=True)
    with pytest.raises(ConfigError, match=message):
        validate(cfg)


@pytest.mark.parametrize("key", ["logger", "callbacks"])
def test_a_null_mapping_of_loggers_or_callbacks_means_none(composed: DictConfig, key: str) -> None:
    cfg = composed.copy()
    OmegaConf.update(cfg, key, None, merge=False)
    assert validate(cfg)[key] is None
