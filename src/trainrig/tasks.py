"""The Hydra task functions behind `trainrig train` and `trainrig eval`.

They validate first and import the heavy runner only after the config is known to be good.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, NoReturn

from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from trainrig.errors import ConfigError, exit_with, one_line_errors
from trainrig.validate import validate


def _run_dir() -> Path:
    return Path(HydraConfig.get().runtime.output_dir)


HYDRA_BOOKKEEPING = {".hydra", "train.log", "eval.log", "lr_find.log"}


def _reject(error: ConfigError) -> NoReturn:
    """Report a bad config of a single run and remove the run directory Hydra made for it.

    In a multirun the error is raised instead, so the sweep records that job as failed.
    """
    if HydraConfig.get().mode != RunMode.RUN or not one_line_errors():
        raise error
    run_dir = _run_dir()
    if run_dir.is_dir() and {p.name for p in run_dir.iterdir()} <= HYDRA_BOOKKEEPING:
        shutil.rmtree(run_dir, ignore_errors=True)
    exit_with(str(error))


def _validated(cfg: DictConfig, task: str) -> dict[str, Any]:
    try:
        values = validate(cfg, task)
        if task == "eval":
            _check_checkpoint_path(Path(values["ckpt_path"]))
    except ConfigError as error:
        _reject(error)
    return values


def _check_checkpoint_path(path: Path) -> None:
    if not path.is_file():
        raise ConfigError(
            f"ckpt_path: no checkpoint file at {path}; pass the .ckpt a training run wrote, "
            "e.g. ckpt_path=outputs/train/runs/<run>/checkpoints/best.ckpt"
        )


def train_task(cfg: DictConfig) -> float:
    """Validate, train, test; return the configured `optimized_metric` for Hydra sweepers."""
    values = _validated(cfg, "train")
    from trainrig.runner import train

    metrics = train(OmegaConf.create(values), _run_dir())
    return metrics[values["optimized_metric"]]


def lr_find_task(cfg: DictConfig) -> float | None:
    """Validate, then run the learning-rate range test; return the suggested learning rate."""
    values = _validated(cfg, "lr_find")
    from trainrig.lr_finder import find_lr

    return find_lr(OmegaConf.create(values), _run_dir())


def eval_task(cfg: DictConfig) -> float:
    """Validate, then test the checkpoint at `ckpt_path`; return its test accuracy."""
    values = _validated(cfg, "eval")
    from trainrig.runner import evaluate

    metrics = evaluate(OmegaConf.create(values), _run_dir())
    return metrics["test/acc"]
