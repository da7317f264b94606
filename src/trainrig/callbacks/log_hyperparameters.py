"""Hands the run's resolved config to every logger as flat hyperparameters."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytorch_lightning as pl
from omegaconf import DictConfig, OmegaConf

from trainrig.redaction import redacted

Scalar = str | int | float | bool | None


def flat_hyperparameters(config: Mapping[Any, Any], prefix: str = "") -> dict[str, Scalar]:
    """`{"optimizer": {"lr": 0.1}}` -> `{"optimizer.lr": 0.1}`, keys as in Hydra overrides.

    Lists become their text (`[0.5, 0.5]`), and passwords in URLs are redacted.
    """
    flat: dict[str, Scalar] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            flat.update(flat_hyperparameters(value, f"{name}."))
        elif isinstance(value, str):
            flat[name] = redacted(value)
        elif isinstance(value, int | float | bool) or value is None:
            flat[name] = value
        else:
            flat[name] = redacted(str(value))
    return flat


class LogHyperparameters(pl.Callback):
    """Logs the flat config once fitting starts, to each logger the trainer has."""

    def __init__(self, cfg: DictConfig) -> None:
        resolved = OmegaConf.to_container(cfg, resolve=True)
        assert isinstance(resolved, dict)
        self.hyperparameters = flat_hyperparameters(resolved)

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        for logger in trainer.loggers:
            logger.log_hyperparams(self.hyperparameters)
