"""The best trial (or Pareto front) a sweep reports: among the feasible trials when any is.

A trial is feasible when every constraint stored on it (`trial.constraints`) is <= 0; a study
without constraints has only feasible trials. Optuna's `study.best_trial` raises and
`study.best_trials` is empty when no trial is feasible; the sweep then still reports the best
complete trials, marked infeasible.
"""

from __future__ import annotations

from typing import Any


def is_feasible(trial: Any) -> bool:
    return all(value <= 0 for value in trial.constraints.values())


def is_constrained(study: Any) -> bool:
    """Whether any complete trial of the study carries constraints."""
    return any(trial.constraints for trial in complete_trials(study))


def complete_trials(study: Any) -> list[Any]:
    from optuna.trial import TrialState

    return list(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))


def best_trial(study: Any) -> Any | None:
    """The single-objective study's best complete trial, feasible when any is; None when none
    completed."""
    complete = complete_trials(study)
    pool = [t for t in complete if is_feasible(t)] or complete
    if not pool:
        return None
    pick = max if study.direction.name == "MAXIMIZE" else min
    return pick(pool, key=lambda t: t.value)


def pareto_front(study: Any) -> list[Any]:
    """The multi-objective study's Pareto front: of the feasible trials when any is (Optuna's),
    else of all complete trials."""
    front: list[Any] = study.best_trials
    pool = complete_trials(study)
    if front or not pool:
        return front
    signs = [1.0 if d.name == "MINIMIZE" else -1.0 for d in study.directions]

    def losses(trial: Any) -> list[float]:
        return [s * v for s, v in zip(signs, trial.values, strict=True)]

    def dominated(trial: Any) -> bool:
        mine = losses(trial)
        return any(
            all(o <= m for o, m in zip(other, mine, strict=True)) and other != mine
            for other in (losses(t) for t in pool)
        )

    return [t for t in pool if not dominated(t)]
