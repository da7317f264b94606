"""Continue an interrupted run in its own run directory (`resume=auto`, `trainrig resume DIR`).

A run that finished has `metrics.json`; one that did not may have `checkpoints/last.ckpt`, saved
at the end of every epoch with the optimizer, schedule, callbacks (early stopping, best
checkpoint) and global random states, so training goes on from the epoch after it as if it had
never stopped. The run directory's `config.yaml` must match the config being resumed: resuming
with other settings would mix two experiments in one directory.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from trainrig.config.errors import ConfigError, RunError
from trainrig.config.flat import flat_config
from trainrig.rundir.results import CONFIG_FILE, METRICS_FILE

LAST_CHECKPOINT = Path("checkpoints") / "last.ckpt"
RESUME_KEY = "resume"
# Keys that only lengthen training when raised: not "another config" for resume=auto.
LENGTHENING = ("trainer.max_epochs", "trainer.max_steps")


def finished_metrics(cfg: DictConfig, run_dir: Path) -> dict[str, float] | None:
    """With resume=auto, the metrics of a run directory whose run already finished, else None
    (also when `cfg` lengthens it: then it trains on). Refuses a run of another config, as
    `checkpoint_to_resume` does: its metrics are not this config's."""
    path = run_dir / METRICS_FILE
    if cfg.get(RESUME_KEY) != "auto" or not path.is_file():
        return None
    _refuse_another_config(cfg, run_dir)
    if _lengthened(_saved(run_dir), _flat(cfg)):
        _refuse_early_stopped(run_dir)
        return None
    metrics: dict[str, float] = json.loads(path.read_text())
    return metrics


def _saved(run_dir: Path) -> dict[str, Any]:
    saved_file = run_dir / CONFIG_FILE
    return _flat(OmegaConf.load(saved_file)) if saved_file.is_file() else {}


def _limit(value: Any) -> float:
    """A training limit as a number; null or -1 (no limit) as infinity."""
    return float("inf") if value is None or value == -1 else float(value)


def _lengthened(saved: dict[str, Any], wanted: dict[str, Any]) -> list[str]:
    """The lengthening keys `wanted` raises above `saved` (both flat configs)."""
    return [k for k in LENGTHENING if k in saved and _limit(wanted.get(k)) > _limit(saved[k])]


def _refuse_early_stopped(run_dir: Path) -> None:
    """A finished run that early stopping ended would stop again after one more epoch."""
    from trainrig.rundir.checkpoints import read_checkpoint

    last = run_dir / LAST_CHECKPOINT
    states = read_checkpoint(last).get("callbacks", {}) if last.is_file() else {}
    stopped = [s.get("stopped_epoch", 0) for s in states.values() if isinstance(s, dict)]
    if any(stopped):
        raise ConfigError(
            f"resume: early stopping ended {run_dir} at epoch {max(stopped)} (no improvement "
            "within its patience), so a longer run would stop again at once; fine-tune it in a "
            f"new run instead: trainrig train init_from={run_dir / 'checkpoints' / 'best.ckpt'}"
        )


def checkpoint_to_resume(cfg: DictConfig, run_dir: Path) -> Path | None:
    """With resume=auto, the run directory's last checkpoint, or a newer one Lightning saved
    for a Slurm requeue (None: start from scratch).

    Refuses a run directory whose saved config differs from `cfg`, naming the keys that differ.
    """
    if cfg.get(RESUME_KEY) != "auto":
        return None
    # Lightning's Slurm requeue (SIGUSR1) saves hpc_ckpt_N.ckpt in the run directory: the newest
    candidates = [run_dir / LAST_CHECKPOINT, *run_dir.glob("hpc_ckpt_*.ckpt")]
    written = [path for path in candidates if path.is_file()]
    if not written:
        return None
    last = max(written, key=lambda path: path.stat().st_mtime_ns)
    _refuse_another_config(cfg, run_dir)
    _check_whole(last)
    return last


def _check_whole(last: Path) -> None:
    """Refuse a damaged last checkpoint (cut short, changed) before Lightning meets it: torch
    saves a zip archive, whose directory and checksums tell."""
    try:
        with zipfile.ZipFile(last) as archive:
            bad = archive.testzip()
        detail = f"{bad} fails its checksum" if bad else None
    except (zipfile.BadZipFile, EOFError) as error:
        detail = f"not a whole checkpoint: {error}"
    if detail is None:
        return
    best = last.with_name("best.ckpt")
    instead = ""
    if best.is_file():
        instead = f"resume from the best epoch instead (cp {best} {last}), or "
    raise RunError(
        f"resume=auto: {last} is damaged ({detail}); {instead}start the run over (rm {last})"
    )


def _refuse_another_config(cfg: DictConfig, run_dir: Path) -> None:
    """Refuse a run directory whose saved config differs from `cfg` (beyond a longer run),
    naming the keys that differ."""
    if not (run_dir / CONFIG_FILE).is_file():
        return
    saved, wanted = _saved(run_dir), _flat(cfg)
    longer = set(_lengthened(saved, wanted))
    differing = [k for k in _differing_keys(saved, wanted) if k not in longer]
    if differing:
        raise ConfigError(
            f"resume=auto: {run_dir} holds a run of another config (differing: "
            f"{', '.join(differing[:5])}); resume it with its own settings "
            f"(trainrig resume {run_dir}) or start a new run without resume=auto"
        )


def _flat(cfg: Any) -> dict[str, Any]:
    """Dotted keys with passwords as the saved config.yaml shows them (***)."""
    values = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(values, dict)
    return flat_config(values)


def _differing_keys(saved: dict[str, Any], wanted: dict[str, Any]) -> list[str]:
    keys = (saved.keys() | wanted.keys()) - {RESUME_KEY}
    return sorted(k for k in keys if saved.get(k) != wanted.get(k))


def resume_arguments(args: list[str]) -> list[str]:
    """`trainrig resume RUN_DIR [KEY=VALUE ...]` as `trainrig train` arguments: the run's own
    overrides (from Hydra's `.hydra/overrides.yaml`), then the given ones (a larger
    trainer.max_epochs lengthens the run; any other change is refused when the run's config is
    compared), its directory, and resume=auto."""
    if not args or "=" in args[0] or any("=" not in a for a in args[1:]):
        raise ConfigError(
            "usage: trainrig resume RUN_DIR [trainer.max_epochs=N] (a run directory of "
            "`trainrig train`, e.g. outputs/train/runs/<run>); its settings come from the run "
            "itself, a larger trainer.max_epochs or trainer.max_steps lengthens it"
        )
    run_dir = Path(args[0])
    overrides_file = run_dir / ".hydra" / "overrides.yaml"
    if not overrides_file.is_file():
        raise ConfigError(
            f"resume: {run_dir} is not a run directory of `trainrig train` (no "
            f"{overrides_file}); pass the directory the run printed as 'Run directory'"
        )
    saved = OmegaConf.load(overrides_file)
    overrides = [str(o) for o in saved if not str(o).startswith(f"{RESUME_KEY}=")]
    given = [a for a in args[1:] if not a.startswith(f"{RESUME_KEY}=")]
    keys = {a.split("=", 1)[0].lstrip("+~") for a in given}
    kept = [o for o in overrides if o.split("=", 1)[0].lstrip("+~") not in keys]
    return [*kept, *given, f"hydra.run.dir='{run_dir.resolve()}'", f"{RESUME_KEY}=auto"]
