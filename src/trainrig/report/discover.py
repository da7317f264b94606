"""Find the runs and sweeps under the paths given to `trainrig report`."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from trainrig.config.errors import ConfigError
from trainrig.config.flat import Scalar, flat_config

CONFIG_FILE = "config.yaml"  # what makes a directory a run: its resolved config
METRICS_FILE = "metrics.json"  # written only when the run finished
CURVES_FILE = Path("csv") / "metrics.csv"
SWEEP_SUMMARY = "summary.json"  # what makes a directory a sweep
SWEEP_PLOTS = "plots"


REPEATS_DIR = "repeats"  # a repeated run's repetitions (training/repeats.py)
MEAN, STD = "_mean", "_std"


@dataclass(frozen=True)
class Run:
    """One run directory: its flat config, its final metrics (empty if unfinished); of a
    repeated run or a group of runs that differ only by seed (`grouped`), the metrics' means
    and their sample standard deviations (`spread`)."""

    path: Path
    config: dict[str, Scalar]
    metrics: dict[str, float]
    spread: dict[str, float] = field(default_factory=dict)
    grouped: tuple[Run, ...] = ()

    def curves_files(self) -> dict[Path, Path]:
        """Where each curve comes from -> its CSV log: the run's own, each repetition's of a
        repeated run, each member's of a group."""
        if self.grouped:
            return {p: f for run in self.grouped for p, f in run.curves_files().items()}
        repeats = self.path / REPEATS_DIR
        if repeats.is_dir() and not (self.path / CURVES_FILE).is_file():
            return {p: p / CURVES_FILE for p in sorted(repeats.iterdir()) if p.is_dir()}
        return {self.path: self.path / CURVES_FILE}


@dataclass(frozen=True)
class Sweep:
    """One sweep directory and the plot files it wrote."""

    path: Path
    summary: dict[str, Any]
    plots: list[Path] = field(default_factory=list)


@dataclass(frozen=True)
class Found:
    runs: list[Run]
    sweeps: list[Sweep]


def read_run(path: Path) -> Run:
    """The run at `path` (a directory holding config.yaml)."""
    config = yaml.safe_load((path / CONFIG_FILE).read_text()) or {}
    metrics_path = path / METRICS_FILE
    metrics = json.loads(metrics_path.read_text()) if metrics_path.is_file() else {}
    spread = {k.removesuffix(STD): v for k, v in metrics.items() if k.endswith(STD)}
    summary_keys = {name + suffix for name in spread for suffix in (MEAN, STD)}
    means = {k: v for k, v in metrics.items() if k not in summary_keys}  # NAME is the mean
    return Run(path=path, config=flat_config(config), metrics=means, spread=spread)


def read_sweep(path: Path) -> Sweep:
    """The sweep at `path` (a directory holding summary.json), with its plots."""
    plots_dir = path / SWEEP_PLOTS
    plots = sorted(p for p in plots_dir.glob("*") if p.is_file()) if plots_dir.is_dir() else []
    return Sweep(path=path, summary=json.loads((path / SWEEP_SUMMARY).read_text()), plots=plots)


def _walk(root: Path, runs: list[Run], sweeps: list[Sweep]) -> None:
    if (root / CONFIG_FILE).is_file():
        runs.append(read_run(root))
        return  # a run's own sub-folders (checkpoints, csv, ...) hold no other run
    if (root / SWEEP_SUMMARY).is_file():
        sweeps.append(read_sweep(root))
    for child in sorted(os.scandir(root), key=lambda entry: entry.name):
        if child.is_dir() and not child.name.startswith("."):
            _walk(Path(child.path), runs, sweeps)


def discover(paths: list[Path]) -> Found:
    """Every run and sweep at or below `paths`; a missing path or one with no run is refused."""
    runs: list[Run] = []
    sweeps: list[Sweep] = []
    for path in paths:
        if not path.is_dir():
            raise ConfigError(f"{path}: no such directory (give run, multirun or sweep folders)")
        found = len(runs)
        _walk(path, runs, sweeps)
        if len(runs) == found:
            raise ConfigError(f"{path}: holds no run (no {CONFIG_FILE} in it or below it)")
    return Found(runs=runs, sweeps=sweeps)
