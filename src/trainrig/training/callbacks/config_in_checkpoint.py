"""Stores the run's resolved config, and the validation metrics of the moment it was saved,
inside every checkpoint it writes."""

from __future__ import annotations

from typing import Any

import pytorch_lightning as pl

from trainrig.training.callbacks.group import callbacks_of

CONFIG_KEY = "trainrig_config"
VALIDATION_KEY = "trainrig_validation_metrics"
VALIDATION_PREFIX = "val/"


class ConfigInCheckpoint(pl.Callback):
    """Makes a checkpoint self-describing: `trainrig eval` rebuilds its data and model from the
    config, and the runner reads the best checkpoint's validation metrics instead of validating it
    once more (Lightning saves a checkpoint right after the validation whose metrics it holds)."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.loaded_validation: dict[str, float] | None = None
        self.loaded_epoch: int | None = None  # the epoch the last loaded checkpoint was saved in

    def on_save_checkpoint(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, checkpoint: dict[str, Any]
    ) -> None:
        checkpoint[CONFIG_KEY] = self.config
        metrics = trainer.callback_metrics.items()  # synchronized across processes already
        validation = {k: float(v) for k, v in metrics if k.startswith(VALIDATION_PREFIX)}
        if validation:
            checkpoint[VALIDATION_KEY] = validation

    def on_load_checkpoint(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, checkpoint: dict[str, Any]
    ) -> None:
        self.loaded_validation = checkpoint.get(VALIDATION_KEY)
        epoch = checkpoint.get("epoch")
        self.loaded_epoch = None if epoch is None else int(epoch)


def stored_validation_metrics(trainer: pl.Trainer) -> dict[str, float] | None:
    """The validation metrics held by the checkpoint `trainer` loaded last (for `test`, say);
    None when it holds none (a checkpoint of an older trainrig)."""
    for callback in callbacks_of(trainer.callbacks, ConfigInCheckpoint):  # type: ignore[attr-defined]
        if callback.loaded_validation:
            return dict(callback.loaded_validation)
    return None


def loaded_checkpoint_epoch(trainer: pl.Trainer) -> int | None:
    """The epoch in which the checkpoint `trainer` loaded last (for `test`, say) was saved."""
    found = callbacks_of(trainer.callbacks, ConfigInCheckpoint)  # type: ignore[attr-defined]
    return found[0].loaded_epoch if found else None
