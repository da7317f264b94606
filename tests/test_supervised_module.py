"""The classifier logs what the rest of trainrig expects and steps its schedule per batch."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import pytorch_lightning as pl
import torch
from omegaconf import DictConfig, OmegaConf

from trainrig.training.build import build_data, build_module


def test_classifier_logs_loss_and_accuracy_per_stage(
    compose_train: Callable[..., DictConfig], tmp_path: Path
) -> None:
    cfg = compose_train("trainer=smoke")
    cfg = OmegaConf.create(OmegaConf.to_container(cfg, resolve=True))
    data = build_data(cfg)
    classifier = build_module(cfg, data)
    trainer = pl.Trainer(
        max_epochs=1,
        limit_train_batches=2,
        limit_val_batches=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=str(tmp_path),
    )
    trainer.fit(classifier, datamodule=data)
    logged = set(trainer.callback_metrics)
    assert {"train/loss", "train/acc", "val/loss", "val/acc"} <= logged
    sched = trainer.lr_scheduler_configs[0]
    assert sched.interval == "step"
    assert sched.scheduler.T_max == trainer.estimated_stepping_batches  # type: ignore[attr-defined]


def test_accuracy_is_the_fraction_of_correct_predictions() -> None:
    from torch import nn

    from tests.task_modules import classification_module

    classifier = classification_module(nn.Identity(), 3, optimizer=torch.optim.SGD)
    logits = torch.tensor([[5.0, 0, 0], [5.0, 0, 0], [5.0, 0, 0], [0, 5.0, 0]])
    labels = torch.tensor([0, 0, 0, 2])  # 3 of 4 right; class-averaged it would be 1/2
    loss = classifier._step((logits, labels), "val")
    assert classifier.val_metrics["acc"].compute().item() == pytest.approx(0.75)
    assert classifier.val_loss.compute().item() == pytest.approx(loss.item())
