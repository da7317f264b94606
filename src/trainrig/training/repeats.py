"""`repeat.seeds` and `repeat.folds`: one config trained several times, one after another, and
each metric's mean and sample standard deviation over the repetitions.

Each repetition is an ordinary run (`runner.train`) in `<run>/repeats/seed_N/` or
`<run>/repeats/fold_N/` with its own config.yaml, checkpoints, logs and metrics.json, so nothing
is lost and `resume=auto` skips the finished ones and resumes the unfinished one. The run's own
metrics.json holds, for every metric all repetitions logged, its mean under the metric's own name
(what a sweep optimizes and `trainrig report` sorts by), `NAME_mean` and `NAME_std`.
"""

from __future__ import annotations

import os
import shutil
import statistics
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from trainrig.config.errors import ConfigError
from trainrig.distributed.checks import GPU_NAMES, requested_devices
from trainrig.distributed.external_launch import external_launch
from trainrig.rundir.results import CONFIG_FILE, write_config, write_metrics
from trainrig.training.runner import train
from trainrig.training.summary import print_repeat_summary

REPEATS_DIR = "repeats"
MEAN, STD = "_mean", "_std"
# what a repetition's directory holds when it was refused before training (a fold too many)
NOTHING_TRAINED = {CONFIG_FILE, "normalization.json"}


@dataclass(frozen=True)
class Repetition:
    name: str  # seed_1, fold_0: its directory under repeats/
    config: DictConfig


def is_repeated(values: Mapping[str, Any]) -> bool:
    """Whether the config asks for several runs (a single fold, `repeat.fold`, is one run)."""
    repeat = values.get("repeat") or {}
    if repeat.get("seeds") is not None:
        return True
    return repeat.get("folds") is not None and repeat.get("fold") is None


def repetitions(cfg: DictConfig) -> list[Repetition]:
    """One plain config per seed (`repeat` emptied), or per fold (`repeat.fold` set); `cfg` is
    the composed config, its interpolations not yet resolved."""
    repeat = cfg.repeat
    if repeat.seeds is not None:
        off = {"seeds": None, "folds": None, "fold": None}
        return [Repetition(f"seed_{s}", _with(cfg, seed=s, repeat=off)) for s in repeat.seeds]
    folds = {"seeds": None, "folds": repeat.folds}
    return [
        Repetition(f"fold_{k}", _with(cfg, repeat={**folds, "fold": k}))
        for k in range(repeat.folds)
    ]


def _with(cfg: DictConfig, **changes: Any) -> DictConfig:
    """`cfg` changed, then resolved: a `${seed}` (data.split_seed) takes the repetition's seed,
    as in a run of its own with that seed."""
    merged = OmegaConf.merge(cfg, changes)
    resolved = OmegaConf.create(OmegaConf.to_container(merged, resolve=True))
    assert isinstance(resolved, DictConfig)
    return resolved


def aggregate(results: Mapping[str, Mapping[str, float]]) -> dict[str, float]:
    """Each metric every repetition has: the mean (under its name and NAME_mean) and the sample
    standard deviation (NAME_std, n - 1 in the denominator, as most papers report it)."""
    names = set.intersection(*(set(metrics) for metrics in results.values()))
    summary: dict[str, float] = {}
    for name in sorted(names):
        values = [float(metrics[name]) for metrics in results.values()]
        mean = statistics.mean(values)
        summary |= {name: mean, name + MEAN: mean, name + STD: statistics.stdev(values)}
    return summary


def train_repeated(cfg: DictConfig, run_dir: Path) -> dict[str, float]:
    """Train every repetition of the composed (unresolved) `cfg` in its own directory; write and
    return the summary."""
    _check_one_process(cfg)
    started = time.monotonic()
    write_config(run_dir, cfg)
    results: dict[str, dict[str, float]] = {}
    planned = repetitions(cfg)
    for number, repetition in enumerate(planned, start=1):
        print(f"repeat: {repetition.name} ({number} of {len(planned)})", flush=True)
        where = run_dir / REPEATS_DIR / repetition.name
        try:
            results[repetition.name] = train(repetition.config, where)
        except ConfigError:
            _remove_if_untrained(where)
            raise
    metrics = aggregate(results)
    write_metrics(run_dir, metrics)
    print_repeat_summary(results, metrics, run_dir, time.monotonic() - started)
    return metrics


def _remove_if_untrained(where: Path) -> None:
    """A repetition refused before it trained (e.g. more folds than a class has samples) leaves
    no directory behind, so the run directory holds nothing and is removed as a whole."""
    if where.is_dir() and all(p.name in NOTHING_TRAINED for p in where.iterdir()):
        shutil.rmtree(where)
        if not any(where.parent.iterdir()):
            where.parent.rmdir()


def _check_one_process(cfg: DictConfig) -> None:
    """Repetitions run one after another in one process: refuse several devices or ranks."""
    import torch

    accelerator = str(cfg.trainer.get("accelerator", "auto"))
    gpus = torch.cuda.device_count()
    on_gpu = accelerator in GPU_NAMES or (accelerator == "auto" and gpus > 0)
    devices = requested_devices(cfg.trainer.get("devices", 1), gpus if on_gpu else 1)
    processes = devices * int(cfg.trainer.get("num_nodes", 1))
    ranks = os.environ.get("WORLD_SIZE") or (
        os.environ.get("SLURM_NTASKS", "1") if external_launch() is not None else "1"
    )  # torchrun's and Lightning's ranks; srun's tasks where Lightning heeds SLURM
    launched = int(ranks) > 1
    if processes > 1 or launched:
        raise ConfigError(
            f"repeat: the repetitions run one after another in one process, not on {processes} "
            "devices or ranks started by torchrun or srun: set trainer.devices=1 and "
            "trainer.num_nodes=1 and start trainrig itself, or run each seed as a run of its "
            "own (trainrig train -m seed=1,2,3), which `trainrig report` groups by seed"
        )
