"""The Hydra task functions behind `trainrig train` and `trainrig eval`.

They validate first and import the heavy runner only after the config is known to be good.
"""

from __future__ import annotations

from pathlib import Path

from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from trainrig.errors import ConfigError
from trainrig.validate import validate


def _run_dir() -> Path:
    return Path(HydraConfig.get().runtime.output_dir)


def train_task(cfg: DictConfig) -> float:
    """Validate, train, test; return the configured `optimized_metric` for Hydra sweepers."""
    values = validate(cfg, "train")
    from trainrig.runner import train

    metrics = train(OmegaConf.create(values), _run_dir())
    return metrics[values["optimized_metric"]]


def eval_task(cfg: DictConfig) -> float:
    """Validate, then test the checkpoint at `ckpt_path`; return its test accuracy."""
    values = validate(cfg, "eval")
    ckpt_path = Path(values["ckpt_path"])
    if not ckpt_path.is_file():
        raise ConfigError(
            f"ckpt_path: no checkpoint file at {ckpt_path}; pass the .ckpt a training run wrote, "
            "e.g. ckpt_path=outputs/train/runs/<run>/checkpoints/best.ckpt"
        )
    from trainrig.runner import evaluate

    metrics = evaluate(OmegaConf.create(values), _run_dir())
    return metrics["test/acc"]
