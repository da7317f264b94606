"""What a finished sweep leaves: `summary.json`, `best.yaml` (an experiment ready to commit) and
hydra-optuna-sweeper's `optimization_results.yaml`, for the tools that read it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from trainrig.config.tree import group_names
from trainrig.rundir.results import write_atomic
from trainrig.sweeps.tally import Tally


def summary(study: Any) -> dict[str, Any]:
    """Counted trials by state, and the best value and parameters (the Pareto front if several).

    `not_counted` is the number of trials left out: those re-queued after their worker died, and
    those that lost the race for the last trial.
    """
    counts = Tally.of(study).states
    result: dict[str, Any] = {
        "study_name": study.study_name,
        "trials": dict(sorted(counts.items())),
        "not_counted": len(study.get_trials(deepcopy=False)) - sum(counts.values()),
    }
    if not counts.get("COMPLETE"):
        return result
    if len(study.directions) == 1:
        best = study.best_trial
        result["best"] = {"number": best.number, "value": best.value, "params": best.params}
    else:
        result["pareto_front"] = [
            {"number": t.number, "values": t.values, "params": t.params} for t in study.best_trials
        ]
    return result


def optimization_results(study: Any) -> dict[str, Any]:
    """hydra-optuna-sweeper's result: `best_params` and `best_value`, or the Pareto front as
    `solutions` (each `params` and `values`) when the study has several objectives."""
    if len(study.directions) == 1:
        best = study.best_trial
        return {"name": "optuna", "best_params": best.params, "best_value": best.value}
    front = [{"params": t.params, "values": t.values} for t in study.best_trials]
    return {"name": "optuna", "solutions": front}


def best_experiment(
    params: dict[str, Any], value: float, number: int, groups: list[str] | None = None
) -> str:
    """The best trial's parameters as an experiment file (`# @package _global_`); `groups` are
    the app's config groups (None: trainrig's)."""
    groups = group_names() if groups is None else groups
    chosen = {k: v for k, v in params.items() if k in groups}
    dotlist = [f"{k}={v}" for k, v in params.items() if k not in groups]
    experiment: Any = OmegaConf.from_dotlist(dotlist)
    if chosen:
        defaults = [{f"override /{k}": v} for k, v in chosen.items()]
        experiment = OmegaConf.merge({"defaults": defaults}, experiment)
    return (
        "# @package _global_\n"
        f"# Best trial {number} of an Optuna sweep (objective {value:.6g}); copy to experiments/.\n"
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
        text = best_experiment(best["params"], best["value"], best["number"], groups)
        write_atomic(sweep_dir / "best.yaml", text)
