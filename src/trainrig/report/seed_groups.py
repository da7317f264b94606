"""Runs that differ only by their seed, shown as one row: each metric's mean ± sample sd.

Keys that follow the seed (a `data.split_seed: ${seed}`, equal to `seed` in every run given) do
not tell runs apart either; nor does a sweep trial's own bookkeeping. Unfinished runs (no
metrics) and runs with no twin stay rows of their own.
"""

from __future__ import annotations

import statistics

from trainrig.config.flat import Scalar
from trainrig.report.discover import Run
from trainrig.report.table import TRIAL_KEYS

SEED = "seed"


def _seed_following(runs: list[Run]) -> set[str]:
    """Keys whose value is the run's seed in every run (the seed itself too)."""
    keys = {k for run in runs for k in run.config}
    return {k for k in keys if all(run.config.get(k) == run.config.get(SEED) for run in runs)}


def _identity(run: Run, ignored: set[str]) -> str:
    kept = {k: v for k, v in run.config.items() if k not in ignored}
    return repr(sorted((k, repr(v)) for k, v in kept.items() if not k.startswith(TRIAL_KEYS)))


def group_by_seed(runs: list[Run]) -> list[Run]:
    """`runs` with every set of two or more finished ones that differ only by seed replaced by
    one Run (at the place of its first), in the order given."""
    ignored = _seed_following(runs) | {SEED}
    finished: dict[str, list[Run]] = {}
    for run in runs:
        if run.metrics and not run.spread:
            finished.setdefault(_identity(run, ignored), []).append(run)
    grouped: list[Run] = []
    for run in runs:
        twins = finished.get(_identity(run, ignored), []) if run.metrics else []
        if len(twins) < 2 or not any(run is twin for twin in twins):
            grouped.append(run)
        elif run is twins[0]:
            grouped.append(_merged(twins, ignored))
    return grouped


def _merged(runs: list[Run], ignored: set[str]) -> Run:
    """One Run for `runs`: the seeds listed, each metric every run has as its mean and sd."""
    seeds = ", ".join(str(run.config.get(SEED)) for run in runs)
    config: dict[str, Scalar] = dict(runs[0].config)
    config.update({k: seeds for k in ignored if k in config})
    names = sorted(set.intersection(*(set(run.metrics) for run in runs)))
    values = {name: [run.metrics[name] for run in runs] for name in names}
    return Run(
        path=runs[0].path,
        config=config,
        metrics={name: statistics.mean(v) for name, v in values.items()},
        spread={name: statistics.stdev(v) for name, v in values.items()},
        grouped=tuple(runs),
    )
