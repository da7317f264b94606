"""What a finished sweep leaves: `summary.json`, `best.yaml` (an experiment ready to commit) and
hydra-optuna-sweeper's `optimization_results.yaml`, for the tools that read it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from trainrig.config.tree import group_names
from trainrig.rundir.results import write_atomic
from trainrig.sweeps.feasibility import (
    best_trial,
    complete_trials,
    is_constrained,
    is_feasible,
    pareto_front,
)
from trainrig.sweeps.tally import Tally


def summary(study: Any) -> dict[str, Any]:
    """Counted trials by state, and the best value and parameters (the Pareto front if several).

    `not_counted` is the number of trials left out: those re-queued after their worker died, and
    those that lost the race for the last trial. With `constraints`, the best is a feasible trial
    when any is; `feasible` says whether it is, `constraints` counts the complete trials of each.
    """
    counts = Tally.of(study).states
    result: dict[str, Any] = {
        "study_name": study.study_name,
        "trials": dict(sorted(counts.items())),
        "not_counted": len(study.get_trials(deepcopy=False)) - sum(counts.values()),
    }
    if not counts.get("COMPLETE"):
        return result
    constrained = is_constrained(study)
    if len(study.directions) == 1:
        best = best_trial(study)
        assert best is not None  # a trial completed
        result["best"] = {"number": best.number, "value": best.value, "params": best.params}
        rows = [(result["best"], best)]
    else:
        front = pareto_front(study)
        result["pareto_front"] = [
            {"number": t.number, "values": t.values, "params": t.params} for t in front
        ]
        rows = list(zip(result["pareto_front"], front, strict=True))
    if constrained:
        for row, trial in rows:
            row["feasible"] = is_feasible(trial)
        feasible = [is_feasible(t) for t in complete_trials(study)]
        result["constraints"] = {"feasible": sum(feasible), "infeasible": feasible.count(False)}
    return result


def optimization_results(study: Any) -> dict[str, Any]:
    """hydra-optuna-sweeper's result: `best_params` and `best_value`, or the Pareto front as
    `solutions` (each `params` and `values`) when the study has several objectives."""
    if len(study.directions) == 1:
        best = best_trial(study)
        assert best is not None  # written once a trial completed
        return {"name": "optuna", "best_params": best.params, "best_value": best.value}
    front = [{"params": t.params, "values": t.values} for t in pareto_front(study)]
    return {"name": "optuna", "solutions": front}


def best_experiment(
    params: dict[str, Any],
    value: float,
    number: int,
    groups: list[str] | None = None,
    feasible: bool = True,
) -> str:
    """The best trial's parameters as an experiment file (`# @package _global_`); `groups` are
    the app's config groups (None: trainrig's); `feasible` false notes that it breaks the
    sweep's constraints (no trial met them)."""
    groups = group_names() if groups is None else groups
    chosen = {k: v for k, v in params.items() if k in groups}
    dotlist = [f"{k}={v}" for k, v in params.items() if k not in groups]
    experiment: Any = OmegaConf.from_dotlist(dotlist)
    if chosen:
        defaults = [{f"override /{k}": v} for k, v in chosen.items()]
        experiment = OmegaConf.merge({"defaults": defaults}, experiment)
    note = "" if feasible else "# It breaks the sweep's constraints: no trial met them.\n"
    return (
        "# @package _global_\n"
        f"# Best trial {number} of an Optuna sweep (objective {value:.6g}); copy to experiments/.\n"
        + note
        + OmegaConf.to_yaml(experiment)
    )


def write_outputs(study: Any, sweep_dir: Path, groups: list[str] | None = None) -> None:
    """Write `summary.json`; once a trial completed, `optimization_results.yaml`, and `best.yaml`
    for a single-objective study."""
    result = summary(study)
    write_atomic(sweep_dir / "summary.json", json.dumps(result, indent=2) + "\n")
    if not result["trials"].get("COMPLETE"):
        return
    results = OmegaConf.to_yaml(OmegaConf.create(optimization_results(study)))
    write_atomic(sweep_dir / "optimization_results.yaml", results)
    best = result.get("best")
    if best is not None:
        feasible = best.get("feasible", True)
        text = best_experiment(best["params"], best["value"], best["number"], groups, feasible)
        write_atomic(sweep_dir / "best.yaml", text)
