"""What a finished sweep leaves: `summary.json` and `best.yaml`, an experiment ready to commit."""

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


def best_experiment(params: dict[str, Any], value: float, number: int) -> str:
    """The best trial's parameters as an experiment file (`# @package _global_`)."""
    groups = set(group_names())
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


def write_outputs(study: Any, sweep_dir: Path) -> None:
    """Write `summary.json`, and `best.yaml` for a single-objective study with a finished trial."""
    result = summary(study)
    write_atomic(sweep_dir / "summary.json", json.dumps(result, indent=2) + "\n")
    best = result.get("best")
    if best is not None:
        text = best_experiment(best["params"], best["value"], best["number"])
        write_atomic(sweep_dir / "best.yaml", text)
