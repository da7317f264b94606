"""A few more epochs of training after the test, for compression methods that fine-tune."""

from __future__ import annotations

from typing import Any

import pytorch_lightning as pl
from omegaconf import DictConfig
from torchmetrics import Metric

from trainrig.training.run_callbacks import display_callbacks, display_flags


def finetune(cfg: DictConfig, classifier: pl.LightningModule, data: Any, epochs: int) -> None:
    """Train `epochs` more epochs on one device, with the run's optimizer and schedule."""
    for module in classifier.modules():  # states the final test left as inference tensors
        if isinstance(module, Metric):
            module.reset()
    settings = {k: v for k, v in cfg.trainer.items() if k != "_target_"}
    shown = display_callbacks(cfg)
    settings.update(max_epochs=epochs, max_steps=-1, min_epochs=None, devices=1)
    settings.update(display_flags(shown))
    trainer = pl.Trainer(**settings, logger=False, enable_checkpointing=False, callbacks=shown)
    trainer.fit(classifier, datamodule=data)
