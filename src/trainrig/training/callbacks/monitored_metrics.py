"""A user's LightningModule must log what the config monitors: checked at its first validation."""

from __future__ import annotations

import pytorch_lightning as pl

from trainrig.config.errors import ConfigError


class MonitoredMetricsCheck(pl.Callback):
    """After the first real validation, refuse a monitored metric the module did not log, with
    the names it did log (before checkpointing or early stopping trips over it)."""

    def __init__(self, monitored: dict[str, str]) -> None:
        self.monitored = monitored  # config key -> metric
        self.checked = False

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self.checked or trainer.sanity_checking:
            return
        self.checked = True
        logged = sorted(trainer.callback_metrics)
        for key, metric in self.monitored.items():
            if metric not in logged:
                raise ConfigError(
                    f"{key}: {metric} was not logged by {type(pl_module).__name__}; it logged "
                    f"{', '.join(logged) or 'nothing'} (self.log in validation_step or "
                    f"training_step): monitor one of those, or log {metric}"
                )
