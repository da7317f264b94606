"""`hydra.sweeper.constraints`: bounds on a trial's metrics that mark it feasible or not.

Each constraint is `METRIC OP BOUND` (`model/parameters <= 20000`, `val/loss < 0.5`). After a
trial completes, its run's `metrics.json` gives each metric, and Optuna 5's `trial.set_constraint`
stores the violation (<= 0 feasible: `value - bound` for `<=`) in the trial's system attributes,
where the constrained samplers (TPE, GP, NSGA-II, NSGA-III, optuna-integration's BoTorch) read it;
the user attribute `feasible` says the outcome. Optuna's `study.best_trial` skips infeasible
trials but raises when none is feasible, so the sweep's outputs pick it in `feasibility.py`.
"""

from __future__ import annotations

import importlib
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from trainrig.config.errors import ConfigError
from trainrig.rundir.results import METRICS_FILE
from trainrig.tasks.names_check import finished_metric_names

KEY = "hydra.sweeper.constraints"
FEASIBLE = "feasible"  # user attribute: whether the trial met every constraint
# Samplers that read `trial.constraints` (Optuna 5); matched by class, BoTorch by name so that
# optuna-integration need not be imported
CONSTRAINED_SAMPLERS = ("TPESampler", "GPSampler", "NSGAIISampler", "NSGAIIISampler")
BOTORCH = "BoTorchSampler"
_SYNTAX = re.compile(r"^\s*(?P<metric>[^\s<>=]+)\s*(?P<op><=|>=|<|>)\s*(?P<bound>[^\s<>=]+)\s*$")


@dataclass(frozen=True)
class Constraint:
    """One bound on one metric; `text` (normalized) is its name in the trial's constraints."""

    metric: str
    operator: str
    bound: float
    text: str

    def violation(self, value: float) -> float:
        """How far `value` is past the bound: <= 0 when it meets it (`<` and `>` are strict)."""
        if self.operator == "<=":
            return value - self.bound
        if self.operator == "<":
            return value - math.nextafter(self.bound, -math.inf)
        if self.operator == ">=":
            return self.bound - value
        return math.nextafter(self.bound, math.inf) - value


def parse_constraints(given: Any) -> list[Constraint]:
    """`hydra.sweeper.constraints` (one string or a list of them) as Constraints."""
    if OmegaConf.is_config(given):
        given = OmegaConf.to_container(given)
    if given is None:
        return []
    entries = [given] if isinstance(given, str) else given
    if not isinstance(entries, list):
        raise ConfigError(f"{KEY}: expected a list of strings like 'val/loss < 0.5', got {given!r}")
    parsed: dict[str, Constraint] = {}
    for i, entry in enumerate(entries):
        constraint = _parsed(f"{KEY}[{i}]", entry)
        if constraint.text in parsed:
            raise ConfigError(f"{KEY}[{i}]: {constraint.text!r} is listed twice; remove one")
        parsed[constraint.text] = constraint
    return list(parsed.values())


def _parsed(where: str, entry: Any) -> Constraint:
    match = _SYNTAX.match(entry) if isinstance(entry, str) else None
    bound = _number(match.group("bound")) if match else None
    if match is None or bound is None:
        raise ConfigError(
            f"{where}: cannot read {entry!r}; write METRIC OP BOUND with OP one of <=, <, >=, > "
            "and a finite number, e.g. 'model/parameters <= 20000' (quoted on the command line)"
        )
    metric, operator = match.group("metric"), match.group("op")
    return Constraint(metric, operator, bound, f"{metric} {operator} {match.group('bound')}")


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def check_constraints(
    constraints: list[Constraint], own_app: bool, sampler: Any, config: Any
) -> None:
    """Before any trial: trainrig's own app, a sampler that reads constraints, known metrics."""
    if not constraints:
        return
    if not own_app:
        raise ConfigError(
            f"{KEY}: constraints read each trainrig run's metrics.json, so they work in trainrig's "
            "own commands only; this app's task function returns only its objective: remove them"
        )
    _check_sampler(sampler)
    plain = {key: _plain(config.get(key)) for key in ("task", "metrics")}
    written = finished_metric_names(plain)
    for constraint in constraints:
        if written is not None and constraint.metric not in written:
            raise ConfigError(
                f"{KEY}: {constraint.text!r}: a finished run writes no {constraint.metric}; "
                f"its metrics are {', '.join(written)}"
            )


def _plain(node: Any) -> Any:
    return OmegaConf.to_container(node) if OmegaConf.is_config(node) else node


def _check_sampler(sampler: Any) -> None:
    """The sampler must be one that reads `trial.constraints`; the others would ignore them."""
    import optuna.samplers

    target = str(_plain(sampler or {}).get("_target_", ""))
    if target.endswith(BOTORCH):
        return
    module, _, name = target.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module), name, None)
    except (ImportError, ValueError):
        cls = None  # not importable (motpe, removed in Optuna 4): refused below
    supported = tuple(getattr(optuna.samplers, name) for name in CONSTRAINED_SAMPLERS)
    if isinstance(cls, type) and issubclass(cls, supported):
        return
    raise ConfigError(
        f"{KEY}: the sampler {target or None} does not use constraints; choose "
        "hydra/sweeper/sampler=tpe, gp or nsgaii, or _target_ optuna.samplers.NSGAIIISampler or "
        "optuna_integration.BoTorchSampler"
    )


def run_metrics(result: Any) -> dict[str, float]:
    """The metrics.json of the run a Hydra job (`JobReturn`) left in its output directory."""
    run_dir = Path(str(OmegaConf.select(result.hydra_cfg, "hydra.runtime.output_dir")))
    path = run_dir / METRICS_FILE
    if not path.is_file():
        raise ConfigError(f"{KEY}: the trial's run left no {path} to judge the constraints by")
    metrics = json.loads(path.read_text())
    return {str(k): float(v) for k, v in metrics.items() if isinstance(v, int | float)}


def record_constraints(trial: Any, constraints: list[Constraint], result: Any) -> None:
    """Store each constraint's violation on the completed trial, and whether it is feasible."""
    if not constraints:
        return
    metrics = run_metrics(result)
    violations = []
    for constraint in constraints:
        if constraint.metric not in metrics:
            raise ConfigError(
                f"{KEY}: {constraint.text!r}: the run writes no {constraint.metric}; its "
                f"metrics.json holds {', '.join(sorted(metrics))}"
            )
        violations.append(constraint.violation(metrics[constraint.metric]))
        trial.set_constraint(constraint.text, violations[-1])
    trial.set_user_attr(FEASIBLE, all(v <= 0 for v in violations))


def check_study_constraints(study: Any, constraints: list[Constraint]) -> None:
    """A resumed study keeps the constraints its complete trials were judged by (the GP sampler
    needs the same names on every trial)."""
    from optuna.trial import TrialState

    wanted = sorted(c.text for c in constraints)
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    judged = {tuple(sorted(t.constraints)) for t in complete}
    if judged and judged != {tuple(wanted)}:
        before = " or ".join(str(list(j)) for j in sorted(judged))
        raise ConfigError(
            f"{KEY}: the study's {len(complete)} complete trials were judged by {before}, not "
            f"{wanted}; keep the study's constraints, or start a new study (another "
            "hydra.sweep.dir or hydra.sweeper.study_name)"
        )
