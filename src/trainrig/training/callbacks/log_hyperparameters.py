"""Hands the run's resolved config to every logger as flat hyperparameters."""

from __future__ import annotations

import pytorch_lightning as pl
from omegaconf import DictConfig, OmegaConf

from trainrig.config.flat import flat_config


class LogHyperparameters(pl.Callback):
    """Logs the config as dotted keys (`optimizer.lr`) once fitting starts, to each logger."""

    def __init__(self, cfg: DictConfig) -> None:
        resolved = OmegaConf.to_container(cfg, resolve=True)
        assert isinstance(resolved, dict)
        self.hyperparameters = flat_config(resolved)

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        for logger in trainer.loggers:
            logger.log_hyperparams(self.hyperparameters)
