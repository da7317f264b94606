"""Files a run leaves behind: written atomically (temporary file, then rename), redacted."""

from __future__ import annotations

import json
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from trainrig.rundir.atomic_files import replaced_atomically
from trainrig.rundir.redaction import redacted

CONFIG_FILE = "config.yaml"
METRICS_FILE = "metrics.json"


def write_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` so that a crash never leaves a truncated file under that name.

    Any `scheme://user:password@` in `text` is written as `scheme://user:***@`.
    """
    with replaced_atomically(path) as file:
        file.write(redacted(text))


def write_config(run_dir: Path, cfg: DictConfig) -> None:
    """The resolved config, as `config.yaml`."""
    write_atomic(run_dir / CONFIG_FILE, OmegaConf.to_yaml(cfg, resolve=True))


def write_metrics(run_dir: Path, metrics: dict[str, float]) -> None:
    """Final metrics keyed as logged (`test/acc`, `val/loss`, ...), as `metrics.json`."""
    write_atomic(run_dir / METRICS_FILE, json.dumps(metrics, indent=2, sort_keys=True) + "\n")
