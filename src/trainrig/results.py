"""Files a run leaves behind: written atomically (temporary file, then rename), redacted."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from trainrig.redaction import redacted

CONFIG_FILE = "config.yaml"
METRICS_FILE = "metrics.json"


def write_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` so that a crash never leaves a truncated file under that name.

    Any `scheme://user:password@` in `text` is written as `scheme://user:***@`.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(redacted(text))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_config(run_dir: Path, cfg: DictConfig) -> None:
    """The resolved config, as `config.yaml`."""
    write_atomic(run_dir / CONFIG_FILE, OmegaConf.to_yaml(cfg, resolve=True))


def write_metrics(run_dir: Path, metrics: dict[str, float]) -> None:
    """Final metrics keyed as logged (`test/acc`, `val/loss`, ...), as `metrics.json`."""
    write_atomic(run_dir / METRICS_FILE, json.dumps(metrics, indent=2, sort_keys=True) + "\n")
