"""The report's table: one row per run (or per group of runs that differ only by seed), the
config keys that differ, then the final metrics."""

from __future__ import annotations

from dataclasses import dataclass

from trainrig.config.flat import Scalar
from trainrig.report.discover import Run
from trainrig.sweeps import PRUNING_CALLBACK

ABSENT = "—"
# The trial's identity, not a setting: it differs between every two trials of a sweep.
TRIAL_KEYS = f"callbacks.{PRUNING_CALLBACK}."


def differing_keys(runs: list[Run]) -> list[str]:
    """Config keys whose value is not the same in every run (absent counts as a value), leaving
    out the sweep trial's own bookkeeping."""
    keys = sorted({k for run in runs for k in run.config if not k.startswith(TRIAL_KEYS)})
    return [k for k in keys if len({repr(run.config.get(k, ABSENT)) for run in runs}) > 1]


def metric_names(runs: list[Run], first: str) -> list[str]:
    """Every final metric any run has, `first` (the objective) leading."""
    names = sorted({name for run in runs for name in run.metrics} - {first})
    return [first, *names] if any(first in run.metrics for run in runs) else names


def shown(value: Scalar | float) -> str:
    """A cell's text: whole numbers in full, others to 4 significant digits, null as `null`."""
    if value is None:
        return "null"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:.4g}"
    return str(value)


def metric_cell(run: Run, metric: str) -> str:
    """The metric's value; `mean ± sd` for repeated or seed-grouped runs."""
    if metric not in run.metrics:
        return ABSENT
    if metric in run.spread:
        return f"{shown(run.metrics[metric])} ± {shown(run.spread[metric])}"
    return shown(run.metrics[metric])


@dataclass(frozen=True)
class RunsTable:
    config_keys: list[str]
    metrics: list[str]
    rows: list[list[str]]  # per run: config values, then metrics (without the run's name)

    @property
    def header(self) -> list[str]:
        return [*self.config_keys, *self.metrics]


def runs_table(runs: list[Run], objective_metric: str) -> RunsTable:
    """The table of `runs` in the order given."""
    keys = differing_keys(runs)
    metrics = metric_names(runs, objective_metric)
    rows = [
        [shown(run.config.get(k, ABSENT)) for k in keys] + [metric_cell(run, m) for m in metrics]
        for run in runs
    ]
    return RunsTable(config_keys=keys, metrics=metrics, rows=rows)
