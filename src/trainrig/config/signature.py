"""A builder's typed signature is its option's schema.

`@option(group)` marks a builder as a built-in option: its keyword parameters are the option's
keys, their defaults the option's defaults, `Annotated[float, Gt(0)]` (annotated_types) their
ranges and `Literal[...]` their choices; `rule` (called with every keyword argument) holds the
cross-field rules. Runtime-only parameters (the model's input shape, an optimizer's parameters)
are positional-only (before `/`): a config can only pass keywords, so they are never config keys.
`schema_of` turns the signature into a dataclass that `validate.py` checks a node against, the
same check a Python call of the builder runs, so both raise one message. A builder may be a
dataclass (the compression methods): its fields are the keys and its `__init__` runs the check.
Builders are imported to read their signature, so an option's module imports torch only inside
its functions.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import inspect
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any, Literal, Optional, TypeVar, Union

from trainrig.config.errors import ConfigError
from trainrig.config.node_check import check_node

F = TypeVar("F", bound=Callable[..., Any])
Rule = Callable[..., None]
BOUNDS = ("gt", "ge", "lt", "le")
OPTION = "__trainrig_option__"


@dataclasses.dataclass(frozen=True)
class Option:
    """What `@option` records on a builder: its group, cross-field rule and Hydra flags."""

    group: str
    rule: Rule | None = None
    partial: bool = False  # the YAML node is `_partial_: true`: the runner adds runtime arguments
    target: str | None = None  # set for a stand-in: the foreign callable it describes
    # keys the foreign callable takes that trainrig sets itself -> what to set instead
    refused: Mapping[str, str] = dataclasses.field(default_factory=dict)


# Modules holding the built-in options (torch-free at import); a `_target_` is checked when it
# names an `@option` function of one of them, or a stand-in's `target`.
OPTION_MODULES = (
    "trainrig.training.optimizers",
    "trainrig.training.schedules",
    "trainrig.training.lightning_options",
    "trainrig.training.callbacks.checkpoints",
    "trainrig.training.loggers.csv_logger",
    "trainrig.training.loggers.mlflow_logger",
    "trainrig.training.loggers.tensorboard_logger",
    "trainrig.training.loggers.wandb_logger",
    "trainrig.models.cnn",
    "trainrig.models.mlp",
    "trainrig.models.resnet",
    "trainrig.models.torchvision_models",
    "trainrig.distributed.strategies",
    "trainrig.tasks.options",
    "trainrig.data.digits",
    "trainrig.data.csv_table",
    "trainrig.data.diabetes",
    "trainrig.data.image_folder",
    "trainrig.data.torchvision_datasets",
    "trainrig.augmentation.batched",
    "trainrig.compression.pruning",
    "trainrig.compression.iterative_pruning",
    "trainrig.compression.quantization",
    "trainrig.compression.static_quantization",
    "trainrig.compression.quantization_aware",
    "trainrig.compression.channel_pruning",
    "trainrig.compression.distillation",
    "trainrig.compression.onnx_export",
)


def option(
    group: str,
    *,
    rule: Rule | None = None,
    partial: bool = False,
    target: str | None = None,
    refused: Mapping[str, str] | None = None,
) -> Callable[[F], F]:
    """Mark `builder` as an option of `group`; a Python call checks its keyword arguments."""

    def mark(builder: F) -> F:
        spec = Option(group, rule, partial, target, dict(refused or {}))
        if isinstance(builder, type):  # a class: its __init__ checks, the class stays itself
            builder.__init__ = _checked(group, builder, builder.__init__)  # type: ignore[misc]
            setattr(builder, OPTION, spec)
            return builder
        checked = _checked(group, builder, builder)
        setattr(checked, OPTION, spec)
        return checked  # type: ignore[return-value]

    return mark


def _checked(group: str, builder: Any, call: Callable[..., Any]) -> Callable[..., Any]:
    """`call` (the builder, or a class's __init__) checking the builder's keyword arguments."""
    method = call is not builder  # __init__: its first argument is `self`

    @functools.wraps(call)
    def checked(*args: Any, **kwargs: Any) -> Any:
        marked = builder if method else checked
        bound = inspect.signature(builder).bind(*args[method:], **kwargs)
        bound.apply_defaults()
        names = config_parameters(marked)
        check_arguments(group, marked, {k: bound.arguments[k] for k in names})
        return call(*args, **kwargs)

    return checked


def option_of(function: Any) -> Option | None:
    """The `@option` record of a callable, or None."""
    return getattr(function, OPTION, None)


# Foreign callables (Lightning's, or a trainrig class that subclasses Lightning's) whose options
# a torch-free stand-in with the same keyword parameters describes.
STAND_INS = {
    "pytorch_lightning.Trainer": "trainrig.training.lightning_options.trainer",
    "pytorch_lightning.loggers.CSVLogger": "trainrig.training.lightning_options.csv_logger",
    "trainrig.training.callbacks.early_stopping.EarlyStopping": (
        "trainrig.training.lightning_options.early_stopping"
    ),
    "trainrig.training.callbacks.progress_bar.ProgressBar": (
        "trainrig.training.lightning_options.progress_bar"
    ),
    **{
        f"pytorch_lightning.callbacks.{name}": f"trainrig.training.lightning_options.{stand_in}"
        for name, stand_in in (
            ("RichModelSummary", "rich_model_summary"),
            ("LearningRateMonitor", "lr_monitor"),
            ("StochasticWeightAveraging", "stochastic_weight_averaging"),
            ("DeviceStatsMonitor", "device_stats_monitor"),
            ("GradientAccumulationScheduler", "gradient_accumulation_scheduler"),
        )
    },
}


def builder_for(target: str) -> Callable[..., Any] | None:
    """The `@option` builder (or stand-in) a `_target_` names; None for any other target.
    Only an option module is imported, never the target's own module."""
    where = STAND_INS.get(target, target)
    module, _, name = where.rpartition(".")
    if module not in OPTION_MODULES:
        return None
    function = getattr(importlib.import_module(module), name, None)
    return function if option_of(function) is not None else None


def builders() -> dict[str, Callable[..., Any]]:
    """Every built-in option by the `_target_` that selects it (for tests and listings)."""
    found: dict[str, Callable[..., Any]] = {}
    for name in OPTION_MODULES:
        for function in vars(importlib.import_module(name)).values():
            spec = option_of(function)
            if spec is not None and function.__module__ == name:
                found[spec.target or f"{name}.{function.__name__}"] = function
    return found


def config_parameters(builder: Callable[..., Any]) -> dict[str, inspect.Parameter]:
    """The parameters a config may set: every one but the positional-only (runtime) ones."""
    parameters = inspect.signature(builder).parameters.values()
    return {p.name: p for p in parameters if p.kind is not p.POSITIONAL_ONLY}


def hints(builder: Callable[..., Any]) -> dict[str, Any]:
    """The config parameters' annotations, evaluated with their `Annotated` extras (runtime-only
    ones are left unevaluated: their types, e.g. torch's, are imported only for type checking)."""
    names = config_parameters(builder)
    if isinstance(builder, type):  # a dataclass option: its fields' annotations
        found = typing.get_type_hints(builder, include_extras=True)
        return {k: v for k, v in found.items() if k in names}
    target = inspect.unwrap(builder)
    holder = types.SimpleNamespace(
        __annotations__={k: v for k, v in target.__annotations__.items() if k in names},
        __globals__=target.__globals__,
    )
    return typing.get_type_hints(holder, include_extras=True)


def defaults(builder: Callable[..., Any]) -> dict[str, Any]:
    """Each config parameter's default (`???` where it has none), tuples as lists."""
    return {
        name: "???" if p.default is p.empty else _plain(p.default)
        for name, p in config_parameters(builder).items()
    }


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _constraints(annotation: Any) -> tuple[Any, dict[str, Any]]:
    """(the type without extras, {gt, ge, lt, le, choices}) of one annotation."""
    rule: dict[str, Any] = {}
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        annotation, *extras = typing.get_args(annotation)
        for extra in extras:
            for name in BOUNDS:
                if getattr(extra, name, None) is not None:
                    rule[name] = getattr(extra, name)
        return annotation, rule
    if origin is Literal:
        choices = typing.get_args(annotation)
        rule["choices"] = choices
        return type(choices[0]), rule
    return annotation, rule


def storable(annotation: Any) -> tuple[Any, dict[str, Any]]:
    """(a type OmegaConf can hold, the constraints on the value or on each item of a list)."""
    annotation, rule = _constraints(annotation)
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (Union, types.UnionType):
        present = [a for a in args if a is not type(None)]
        if len(present) == 1:
            inner, inner_rule = storable(present[0])
            optional: Any = Optional[inner]  # noqa: UP045 (OmegaConf's spelling)
            return optional, {**inner_rule, **rule}
        kinds = [_kind(a) for a in present]  # OmegaConf holds no union: checked by kind
        if all(kinds):
            return Any, {**rule, "kinds": tuple(kinds), "optional": len(present) < len(args)}
        return Any, rule
    if origin in (list, tuple, Sequence) or annotation is Sequence:
        item, item_rule = storable(args[0] if args else Any)
        return list[item], {**item_rule, **rule}  # type: ignore[valid-type]
    if origin in (dict, Mapping):
        return dict[args[0], args[1]], rule  # type: ignore[valid-type]
    return annotation, rule


def _kind(annotation: Any) -> type | None:
    """The plain type a config value of one union member has (bool, int, float, str, list, dict);
    None for a member that cannot be told by its type (a Literal, a class)."""
    while typing.get_origin(annotation) is Annotated:
        annotation = typing.get_args(annotation)[0]
    plain = typing.get_origin(annotation) or annotation
    if plain in (tuple, Sequence):
        return list
    if plain is Mapping:
        return dict
    return plain if plain in (bool, int, float, str, list, dict) else None


def _type_text(stored: Any) -> str:
    return stored.__name__ if isinstance(stored, type) else repr(stored).replace("typing.", "")


@functools.cache
def schema_of(builder: Callable[..., Any]) -> type:
    """A dataclass of the builder's config parameters, for OmegaConf's key and type checks;
    each field's metadata holds its range, choices and type as the messages name it."""
    spec = option_of(builder)
    fields: list[Any] = [
        ("_target_", str, dataclasses.field(default="", metadata={"type": "str"})),
        (
            "_partial_",
            bool,
            dataclasses.field(default=bool(spec and spec.partial), metadata={"type": "bool"}),
        ),
    ]
    annotations = hints(builder)
    for name, value in defaults(builder).items():
        stored, rule = storable(annotations.get(name, Any))
        metadata = {**rule, "type": _type_text(stored)}
        if value == "???":
            field = dataclasses.field(default="???", metadata=metadata)
        elif isinstance(value, list | dict):
            field = dataclasses.field(
                default_factory=functools.partial(_copy, value), metadata=metadata
            )
        else:
            field = dataclasses.field(default=value, metadata=metadata)
        fields.append((name, stored, field))
    return dataclasses.make_dataclass(f"{builder.__name__}_options", fields)


def _copy(value: Any) -> Any:
    return list(value) if isinstance(value, list) else dict(value)


def check_arguments(path: str, builder: Callable[..., Any], values: dict[str, Any]) -> None:
    """Check keyword arguments as `validate` checks a config node."""
    spec = option_of(builder)
    for key in values:
        if spec is not None and key in spec.refused:
            raise ConfigError(f"{path}.{key}: trainrig sets it; {spec.refused[key]}")
    check_node(path, values, schema_of(builder))
    if spec is not None and spec.rule is not None:
        given = config_parameters(builder)
        spec.rule(**{k: v for k, v in _merged(builder, values).items() if k in given})


def _merged(builder: Callable[..., Any], values: dict[str, Any]) -> dict[str, Any]:
    return {**defaults(builder), **{k: v for k, v in values.items() if not k.startswith("_")}}
