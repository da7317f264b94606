"""Hydra's sweep grammar -> Optuna distributions, with hydra-optuna-sweeper's semantics.

`choice(a, b)` and `a,b` are categorical; `range(start, stop, step)` is stepped and, as in Hydra,
excludes `stop`; `interval(low, high)` is continuous (integers when both ends are integers);
`tag(log, ...)` samples on a log scale; `shuffle(...)` is categorical. Anything else is a fixed
override passed to every trial; a fixed value given after a sweep of the same key (the command line
after `params`) pins it, so it is no longer sampled. A key set to null is no part of the search.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import ChoiceSweep, IntervalSweep, Override, RangeSweep

from trainrig.config.errors import ConfigError


@dataclass
class SearchSpace:
    """What each trial samples, and the overrides every trial gets as they are."""

    distributions: dict[str, Any] = field(default_factory=dict)
    fixed: list[str] = field(default_factory=list)
    grid: dict[str, list[Any]] = field(default_factory=dict)  # for GridSampler


def _distribution(override: Override) -> tuple[Any, list[Any] | None]:
    """The Optuna distribution of one sweep override and, where it is finite, its values."""
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    value: Any = override.value()
    log = "log" in getattr(value, "tags", set())
    if isinstance(value, ChoiceSweep):
        choices: list[Any] = list(override.sweep_iterator())
        return CategoricalDistribution(choices), choices
    if isinstance(value, RangeSweep):
        values: list[Any] = list(override.sweep_iterator())
        if not values:
            raise ConfigError(f"{override.key_or_group}: {override.input_line} holds no values")
        if value.shuffle:  # its values in random order: the order means nothing to a sampler
            values = sorted(values)
            return CategoricalDistribution(values), values
        if all(isinstance(v, int) for v in values):
            step = int(value.step or 1)
            return IntDistribution(values[0], values[-1], step=step, log=log), values
        return FloatDistribution(values[0], values[-1], step=value.step), values
    if isinstance(value, IntervalSweep):
        low, high = value.start, value.end
        assert low is not None and high is not None  # the grammar requires both ends
        if isinstance(low, int) and isinstance(high, int):
            return IntDistribution(low, high, log=log), None
        return FloatDistribution(float(low), float(high), log=log), None
    raise ConfigError(f"{override.input_line}: not a sweep Optuna can sample")


def search_space(params: dict[str, Any], arguments: list[str]) -> SearchSpace:
    """Parse `hydra.sweeper.params` and the command line's sweep overrides into a SearchSpace."""
    # A key set to null is left out: how a config that extends a preset drops one of its params.
    lines = [f"{key}={value}" for key, value in dotted_keys(params).items() if value is not None]
    overrides = [_parsed(line) for line in [*lines, *arguments]]
    space = SearchSpace()
    fixed: dict[tuple[str, str | None], str] = {}
    for override in overrides:
        name = override.get_key_element()
        sweeps = override.is_sweep_override()
        # The last override of a key wins, as in Hydra: a fixed value pins a swept key.
        fixed.pop((override.key_or_group, override.package), None)
        for earlier in [n for n in space.distributions if _same_key(n, override)]:
            del space.distributions[earlier]
            space.grid.pop(earlier, None)
        if not sweeps:
            fixed[(override.key_or_group, override.package)] = override.input_line or ""
            continue
        distribution, values = _distribution(override)
        space.distributions[name] = distribution
        if values is not None:
            space.grid[name] = values
    space.fixed = list(fixed.values())
    return space


def _same_key(name: str, override: Override) -> bool:
    """Whether the parameter `name` (`key`, `+key`, `pkg@key`) sets the key of `override`."""
    return name.lstrip("+~") == override.get_key_element().lstrip("+~")


def legacy_search_space(nodes: Mapping[str, Any]) -> dict[str, Any]:
    """hydra-optuna-sweeper 1.x's deprecated `search_space` ({key: {type, low, high, ...}}) as
    Optuna distributions; `params` replaced it."""
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    built: dict[str, Any] = {}
    for key, node in nodes.items():
        node = node if isinstance(node, Mapping) else {}  # a plain value: "got None" below
        kind = node.get("type")
        step, log = node.get("step"), bool(node.get("log", False))
        if kind == "categorical":
            built[key] = CategoricalDistribution(list(node["choices"]))
        elif kind == "int":
            built[key] = IntDistribution(node["low"], node["high"], step=step or 1, log=log)
        elif kind == "float":
            built[key] = FloatDistribution(node["low"], node["high"], step=step, log=log)
        else:
            raise ConfigError(
                f"hydra.sweeper.search_space.{key}: type must be categorical, int or float, got "
                f"{kind!r}; better, move it to hydra.sweeper.params (e.g. {key}: interval(0, 1))"
            )
    return built


def dotted_keys(params: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """`params` with nested nodes as dotted keys: `hydra.sweeper.params.optimizer.lr=...` on the
    command line nests `lr` under `optimizer`, where a sweep config writes `optimizer.lr`."""
    flat: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, Mapping):
            flat.update(dotted_keys(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _parsed(line: str) -> Override:
    """One `KEY=SWEEP` line parsed by Hydra's grammar; a ConfigError names the line otherwise."""
    try:
        (override,) = OverridesParser.create().parse_overrides([line])
    except Exception as error:
        detail = str(error).splitlines()[0]
        raise ConfigError(
            f"search space: cannot parse {line!r} ({detail}); write interval(low, high), "
            "range(start, stop[, step]), choice(a, b, ...) or a,b, and quote a value that holds "
            "special characters"
        ) from None
    return override
