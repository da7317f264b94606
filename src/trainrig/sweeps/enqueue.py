"""`hydra.sweeper.enqueue`: configurations the study runs first (a warm start).

Each entry maps search-space parameter names to values (`{optimizer.lr: 0.003, model: cnn}`;
nested keys as in a config file work too); a string entry is a YAML file: a previous sweep's
`best.yaml` (an experiment: `defaults: [{override /model: cnn}]` and values),
its `optimization_results.yaml` (`best_params`, or each of `solutions`), or a mapping or list of
mappings. Every value is checked against its parameter's distribution before any trial; the
study enqueues them with `skip_if_exists`, so a resumed sweep does not run them twice, and they
count towards `n_trials`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from omegaconf import OmegaConf

from trainrig.config.errors import ConfigError
from trainrig.sweeps.search_space import SearchSpace, dotted_keys
from trainrig.sweeps.tally import Tally

KEY = "hydra.sweeper.enqueue"
log = logging.getLogger(__name__)


def enqueued_configs(
    given: Any, space: SearchSpace, cwd: Path, n_trials: int, open_space: bool = False
) -> list[dict[str, Any]]:
    """The configurations to run first, each checked against `space`.

    `open_space`: a `custom_search_space` function suggests more parameters than `space` holds,
    so names outside it are passed on unchecked.
    """
    if OmegaConf.is_config(given):
        given = OmegaConf.to_container(given)
    if given is None:
        return []
    entries = given if isinstance(given, list) else [given]
    configs: list[dict[str, Any]] = []
    for i, entry in enumerate(entries):
        where = f"{KEY}[{i}]" if isinstance(given, list) else KEY
        for label, mapping in _read(where, entry, cwd):
            configs.append(_checked(label, mapping, space, open_space))
    if len(configs) > n_trials:
        raise ConfigError(
            f"{KEY}: {len(configs)} configurations, more than hydra.sweeper.n_trials={n_trials}; "
            "raise n_trials or enqueue fewer"
        )
    return configs


def _read(where: str, entry: Any, cwd: Path) -> list[tuple[str, Mapping[str, Any]]]:
    """(label, mapping) for each configuration an entry holds: itself or its file's."""
    if isinstance(entry, Mapping):
        return [(where, entry)]
    if not isinstance(entry, str):
        raise ConfigError(
            f"{where}: expected a mapping of parameter names to values or a YAML file's path, "
            f"got {entry!r}"
        )
    path = Path(entry).expanduser()
    path = path if path.is_absolute() else cwd / path
    try:
        content = OmegaConf.to_container(OmegaConf.load(path))
    except Exception as error:  # missing, unreadable or not YAML
        raise ConfigError(f"{where}: cannot read {path}: {error}".splitlines()[0]) from None
    label = f"{where} ({path})"
    if isinstance(content, Mapping) and "best_params" in content:  # optimization_results.yaml
        return [(label, content["best_params"])]
    if isinstance(content, Mapping) and "solutions" in content:
        solutions = content["solutions"]
        return [(f"{label} solution {j}", s.get("params", {})) for j, s in enumerate(solutions)]
    if isinstance(content, Mapping):
        return [(label, _experiment_params(content))]
    if isinstance(content, list) and all(isinstance(c, Mapping) for c in content):
        return [(f"{label} entry {j}", c) for j, c in enumerate(content)]
    raise ConfigError(f"{where}: {path} holds no mapping of parameter names to values")


def _experiment_params(content: Mapping[Any, Any]) -> dict[str, Any]:
    """An experiment's (best.yaml's) values as dotted keys, and its `override /group: option`
    defaults as the group's choice (`model.hidden_sizes` and `model` apart)."""
    params = dotted_keys({str(k): v for k, v in content.items() if k != "defaults"})
    for item in content.get("defaults") or []:
        if isinstance(item, Mapping):
            for key, option in item.items():
                group = str(key).removeprefix("override").strip().lstrip("/")
                params[group] = option
    return params


def _bare(name: str) -> str:
    return name.lstrip("+~")


def _checked(
    where: str, mapping: Mapping[str, Any], space: SearchSpace, open_space: bool
) -> dict[str, Any]:
    """The configuration as the study's parameter names and values, or a ConfigError."""
    by_bare = {_bare(name): name for name in space.distributions}
    flat = dotted_keys(mapping)
    if not flat:
        raise ConfigError(f"{where}: an empty configuration; give parameter values to run")
    params: dict[str, Any] = {}
    for key, value in flat.items():
        name = by_bare.get(_bare(key))
        if name is None:
            if open_space:
                params[key] = value
                continue
            raise ConfigError(
                f"{where}: {key} is not a parameter of the search space; its parameters: "
                f"{describe(space)}"
            )
        params[name] = _value(where, name, value, space.distributions[name], space)
    return params


def _value(where: str, name: str, value: Any, distribution: Any, space: SearchSpace) -> Any:
    """`value` as the distribution holds it (a choice itself; an int or a float in range)."""
    from optuna.distributions import CategoricalDistribution, IntDistribution

    if isinstance(distribution, CategoricalDistribution):
        for choice in distribution.choices:
            if _same_choice(choice, value):
                return choice
    elif _in_range(value, distribution):
        return int(value) if isinstance(distribution, IntDistribution) else float(value)
    raise ConfigError(
        f"{where}: {name}={value!r} is outside the search space's {name} "
        f"({_described(distribution)}); its parameters: {describe(space)}"
    )


def _same_choice(choice: Any, value: Any) -> bool:
    """Whether `value` is `choice`: equal, or the value a string choice spells (`"[8,16]"` is
    the list a best.yaml writes); numbers by value, never a bool for a number."""
    if isinstance(choice, bool) or isinstance(value, bool):
        return choice is value
    if choice == value:
        return True
    if isinstance(choice, str) and not isinstance(value, str):
        try:
            return bool(yaml.safe_load(choice) == value)
        except yaml.YAMLError:
            return False
    return False


def _in_range(value: Any, distribution: Any) -> bool:
    from optuna.distributions import IntDistribution

    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return False
    if isinstance(distribution, IntDistribution) and value != int(value):
        return False
    if not distribution.low <= value <= distribution.high:
        return False
    step = distribution.step
    return step is None or math.isclose(
        round((value - distribution.low) / step) * step + distribution.low, value, abs_tol=1e-12
    )


def _described(distribution: Any) -> str:
    from optuna.distributions import CategoricalDistribution

    if isinstance(distribution, CategoricalDistribution):
        return "one of " + ", ".join(map(str, distribution.choices))
    text = f"{distribution.low} to {distribution.high}"
    if distribution.step not in (None, 1):
        text += f" step {distribution.step}"
    return text + (" log" if distribution.log else "")


def describe(space: SearchSpace) -> str:
    """`optimizer.lr (0.0001 to 0.1 log), model (one of cnn, mlp)`."""
    parts = [f"{name} ({_described(d)})" for name, d in space.distributions.items()]
    return ", ".join(parts) or "none (the search space is empty)"


def _ran(study: Any, params: dict[str, Any]) -> bool:
    """Whether a trial of the study already has these values."""
    return any(
        all(t.params.get(k) == v for k, v in params.items())
        for t in study.get_trials(deepcopy=False)
    )


def enqueue(study: Any, configs: list[dict[str, Any]], n_trials: int) -> None:
    """Queue the configurations not run yet, while the study has room below n_trials."""
    left_out = 0
    for params in configs:
        if Tally.of(study).total >= n_trials and not _ran(study, params):
            left_out += 1
            continue
        study.enqueue_trial(params, skip_if_exists=True)
    if left_out:
        log.warning(
            "%s: the study holds hydra.sweeper.n_trials=%d trials already; %d configuration(s) "
            "not run: raise n_trials to run them",
            KEY,
            n_trials,
            left_out,
        )
