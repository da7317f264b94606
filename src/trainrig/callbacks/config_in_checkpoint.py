"""Stores the run's resolved config inside every checkpoint it writes."""

from __future__ import annotations

from typing import Any

import pytorch_lightning as pl

CONFIG_KEY = "trainrig_config"


class ConfigInCheckpoint(pl.Callback):
    """Makes a checkpoint self-describing, so `trainrig eval` can rebuild its data and model."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config

    def on_save_checkpoint(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, checkpoint: dict[str, Any]
    ) -> None:
        checkpoint[CONFIG_KEY] = self.config
