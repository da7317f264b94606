"""What a sweep shows while it runs (one line per change) and when it ends (the best trials)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from trainrig.sweeps.feasibility import best_trial, is_constrained, is_feasible, pareto_front
from trainrig.sweeps.tally import Tally, counted_trials

console = Console(stderr=True, highlight=False)


def _best(study: Any, metrics: list[str]) -> str:
    if len(study.directions) > 1:
        front = pareto_front(study)
        return f"Pareto front: {len(front)} trial(s)" if front else "no complete trial yet"
    complete = [t for t in counted_trials(study) if t.state.name == "COMPLETE"]
    best = best_trial(study) if complete else None
    if best is None:
        return "no complete trial yet"
    infeasible = "" if is_feasible(best) else ", infeasible"
    return f"best {metrics[0]} {best.value:.4g} (trial {best.number}{infeasible})"


def progress_line(study: Any, n_trials: int, metrics: list[str]) -> str:
    """E.g. `sweep 7/24: 5 complete, 1 pruned, 1 failed, 2 running; best val/acc 0.98 (trial 3)`."""
    tally = Tally.of(study)
    counts = ", ".join(
        f"{tally.states[state]} {word}"
        for state, word in (
            ("COMPLETE", "complete"),
            ("PRUNED", "pruned"),
            ("FAIL", "failed"),
            ("RUNNING", "running"),
            ("WAITING", "queued"),
        )
        if tally.states[state] or state == "COMPLETE"
    )
    return f"sweep {tally.finished}/{n_trials}: {counts}; {_best(study, metrics)}"


def _number(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:.4g}"


def best_trials_table(study: Any, metrics: list[str], top: int = 5) -> Table:
    """The best `top` complete trials (or the Pareto front), their values and parameters;
    with constraints, the feasible trials first and a column saying which are."""
    complete = [t for t in counted_trials(study) if t.state.name == "COMPLETE"]
    constrained = is_constrained(study)
    if len(study.directions) > 1:
        rows, title = pareto_front(study), "Pareto front"
    else:
        sign = -1.0 if study.direction.name == "MAXIMIZE" else 1.0
        rows = sorted(complete, key=lambda t: (not is_feasible(t), sign * t.value))[:top]
        title = f"Best {len(rows)} of {len(complete)} complete trials"
    table = Table(title=title)
    table.add_column("trial", justify="right")
    for metric in metrics:
        table.add_column(metric, justify="right")
    if constrained:
        table.add_column("feasible")
    table.add_column("parameters")
    for trial in rows:
        params = " ".join(
            f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in trial.params.items()
        )
        feasible = ["yes" if is_feasible(trial) else "no"] if constrained else []
        table.add_row(str(trial.number), *(_number(v) for v in trial.values), *feasible, params)
    return table
