"""Normalization statistics kept in the run directory, computed once per run."""

from __future__ import annotations

import json
from pathlib import Path

from trainrig.data.modules import ClassificationData
from trainrig.rundir.results import write_atomic

STATS_FILE = "normalization.json"


def cache_normalization(data: ClassificationData, run_dir: Path) -> None:
    """Reuse `normalization.json` of this run directory if present, else compute and write it.

    A resumed run then standardizes with exactly the statistics it started with.
    """
    if not data.normalize:
        return
    path = run_dir / STATS_FILE
    if path.is_file():
        saved = json.loads(path.read_text(encoding="utf-8"))
        data.given_stats = (saved["mean"], saved["std"])
        return
    mean, std = (t.flatten().tolist() for t in data.normalization_stats())
    stats = {"mean": mean, "std": std, "rescale": data.rescale}
    write_atomic(path, json.dumps(stats, indent=2) + "\n")
    data.given_stats = (mean, std)
