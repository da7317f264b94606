"""Which metric orders the report's runs, and which way.

The metric is the runs' `optimized_metric` (the first one of a multi-objective run). Its
direction is `checkpoint.mode` when the checkpoint monitors that same metric; otherwise the
name's: the task's metric catalog (R2 higher, MSE lower; tasks/catalog.py), else the convention
that losses, parameter counts and byte sizes are better lower and the rest higher.
"""

from __future__ import annotations

from dataclasses import dataclass

from trainrig.report.discover import Run
from trainrig.tasks.catalog import higher_is_better
from trainrig.tasks.settle import task_kind

DEFAULT_METRIC = "val/acc"


@dataclass(frozen=True)
class Objective:
    metric: str
    higher_is_better: bool
    reason: str  # where the direction came from, said in the report

    def describe(self) -> str:
        order = "highest" if self.higher_is_better else "lowest"
        return f"sorted by `{self.metric}`, {order} first ({self.reason})"


def _named_metric(run: Run) -> str:
    named = run.config.get("optimized_metric")
    if isinstance(named, str) and named.startswith("["):  # a list, flattened to its text
        named = named.strip("[]").split(",")[0].strip().strip("'\"")
    return named if isinstance(named, str) and named else DEFAULT_METRIC


def metric_objective(
    metric: str, monitor: object, mode: object, kind: str | None = None
) -> Objective:
    """Which way `metric` is better: `mode` ("max"/"min") when the checkpoint's `monitor` is the
    same metric, else the name's (tasks/catalog.py: `higher_is_better`)."""
    if monitor == metric and mode in ("max", "min"):
        return Objective(metric, mode == "max", f"checkpoint.mode={mode}")
    known = higher_is_better(metric, kind)  # None: a name of a user's own, higher is better
    return Objective(metric, True if known is None else known, "by the metric's name")


def objective_of(runs: list[Run]) -> Objective:
    """The objective of the first run (runs compared in one report share one, as a rule)."""
    run = runs[0]
    monitor, mode = run.config.get("checkpoint.monitor"), run.config.get("checkpoint.mode")
    kind = task_kind({"task": {"_target_": run.config.get("task._target_")}})
    return metric_objective(_named_metric(run), monitor, mode, kind)


def sorted_by(objective: Objective, runs: list[Run]) -> list[Run]:
    """Best first; runs without the metric (unfinished) last, in path order."""
    scored = [r for r in runs if objective.metric in r.metrics]
    unscored = [r for r in runs if objective.metric not in r.metrics]
    scored.sort(key=lambda r: r.metrics[objective.metric], reverse=objective.higher_is_better)
    return scored + unscored
