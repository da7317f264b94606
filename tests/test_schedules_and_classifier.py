"""Schedules follow their formula; the classifier logs what the rest of trainrig expects."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import pytest
import pytorch_lightning as pl
import torch
from omegaconf import DictConfig, OmegaConf

from trainrig.build import build_classifier, build_data
from trainrig.schedules import build_cosine


@pytest.mark.parametrize("eta_min", [0.0, 1e-4])
def test_cosine_follows_its_formula_and_ends_at_eta_min(eta_min: float) -> None:
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    scheduler = build_cosine(optimizer, total_steps=100, eta_min=eta_min)
    seen = []
    for _ in range(100):
        seen.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    for step in (0, 25, 50, 75):
        expected = eta_min + (0.1 - eta_min) * (1 + math.cos(math.pi * step / 100)) / 2
        assert seen[step] == pytest.approx(expected, rel=1e-6)
    assert optimizer.param_groups[0]["lr"] == pytest.approx(eta_min, abs=1e-12)


def test_classifier_logs_loss_and_accuracy_per_stage(
    compose_train: Callable[..., DictConfig], tmp_path: Path
) -> None:
    cfg = compose_train("trainer=smoke")
    cfg = OmegaConf.create(OmegaConf.to_container(cfg, resolve=True))
    data = build_data(cfg)
    classifier = build_classifier(cfg, data)
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

    from trainrig.classifier import Classifier

    classifier = Classifier(nn.Identity(), num_classes=3, optimizer=torch.optim.SGD)
    logits = torch.tensor([[5.0, 0, 0], [5.0, 0, 0], [5.0, 0, 0], [0, 5.0, 0]])
    labels = torch.tensor([0, 0, 0, 2])  # 3 of 4 right; class-averaged it would be 1/2
    loss = classifier._step((logits, labels), "val")
    assert classifier.val_acc.compute().item() == pytest.approx(0.75)
    assert classifier.val_loss.compute().item() == pytest.approx(loss.item())
