"""The two training loops `train_loop` compares, both built from trainrig's default experiment.

Imports the whole training stack, so the driver loads this module only when a loop is measured.
"""

from __future__ import annotations

import io
import logging
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from itertools import pairwise
from typing import Any

import pytorch_lightning as pl
import rich
import torch
import torch.nn.functional as F
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig, OmegaConf

from trainrig.config.resolvers import register_resolvers
from trainrig.config.tree import BUILTIN_CONF_DIR
from trainrig.data.in_memory import InMemoryDataModule
from trainrig.training.build import build_data, build_module
from trainrig.training.callbacks.progress_bar import ProgressBar
from trainrig.training.supervised import SupervisedModule

SEED = 0


@cache
def experiment(*overrides: str) -> tuple[DictConfig, InMemoryDataModule]:
    """The default `train` config with `overrides`, resolved, and its data module; built once."""
    register_resolvers()
    with initialize_config_dir(config_dir=str(BUILTIN_CONF_DIR), version_base="1.3"):
        composed = compose(config_name="train", overrides=list(overrides))
    cfg = OmegaConf.create(OmegaConf.to_container(composed, resolve=True))
    assert isinstance(cfg, DictConfig)
    return cfg, build_data(cfg)


def fresh_classifier(*overrides: str) -> SupervisedModule:
    """A newly built, identically seeded classifier of the default experiment."""
    cfg, data = experiment(*overrides)
    torch.manual_seed(SEED)
    return build_module(cfg, data)


def plain_epochs(epochs: int) -> list[float]:
    """Seconds per epoch of a hand-written loop doing the training work `SupervisedModule` does.

    Rescale, augment, forward, cross-entropy, backward, Adam step, per-step schedule, accuracy
    and mean-loss updates; both are computed and reset at the end of each epoch.
    """
    _, data = experiment()
    classifier = fresh_classifier()
    loader = data.train_dataloader()
    optimizer = classifier.optimizer_factory(classifier)
    scheduler = None
    if classifier.scheduler_factory is not None:
        total_steps = epochs * len(loader)
        scheduler = classifier.scheduler_factory(optimizer, total_steps)["scheduler"]
    augmentation = classifier.augmentation
    times: list[float] = []
    for _ in range(epochs):
        start = time.perf_counter()
        classifier.train()
        for stored, y in loader:
            x = stored.to(torch.float32) * classifier.rescale
            if augmentation is not None:
                x, y = augmentation(x, y)
            logits = classifier(x)
            loss = F.cross_entropy(logits, y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            classifier.train_metrics["acc"].update(logits.detach(), y)
            classifier.train_loss.update(loss.detach(), weight=len(y))
        for metric in (classifier.train_metrics["acc"], classifier.train_loss):
            metric.compute()
            metric.reset()
        times.append(time.perf_counter() - start)
    return times


class EpochTimer(pl.Callback):
    """Records when each training epoch starts and when training ends.

    An epoch's time runs from its start to the next epoch's start (or the end of training), so it
    covers all of Lightning's per-epoch work, including the epoch-end metric computation and
    logging that happen after the `on_train_epoch_end` hooks.
    """

    def __init__(self) -> None:
        self.marks: list[float] = []

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.marks.append(time.perf_counter())

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.marks.append(time.perf_counter())

    def epoch_times(self) -> list[float]:
        """Seconds per epoch."""
        return [end - start for start, end in pairwise(self.marks)]


def lightning_epochs(
    epochs: int, progress_bar: bool = False, overrides: tuple[str, ...] = ()
) -> list[float]:
    """Seconds per epoch of `Trainer.fit` on a fresh classifier, on the CPU, without validation.

    With `progress_bar`, trainrig's rich progress bar is on, drawing into an in-memory terminal so
    that it renders as it would on screen without printing anything.
    """
    _, data = experiment(*overrides)
    classifier = fresh_classifier(*overrides)
    timer = EpochTimer()
    callbacks: list[pl.Callback] = [timer]
    if progress_bar:
        screen: dict[str, Any] = {"file": io.StringIO(), "force_terminal": True, "width": 100}
        callbacks.append(ProgressBar(console_kwargs=screen))
    try:
        with quiet_lightning():
            trainer = pl.Trainer(
                max_epochs=epochs,
                accelerator="cpu",
                devices=1,
                logger=False,
                enable_checkpointing=False,
                enable_progress_bar=progress_bar,
                enable_model_summary=False,
                num_sanity_val_steps=0,
                limit_val_batches=0,
                callbacks=callbacks,
            )
            trainer.fit(classifier, train_dataloaders=data.train_dataloader())
    finally:
        if progress_bar:
            rich.reconfigure()  # the bar pointed rich's global console at the in-memory screen
    return timer.epoch_times()


@contextmanager
def quiet_lightning() -> Iterator[None]:
    """Silence Lightning's info messages (devices, tips) and warnings; they would bury the table."""
    lightning_log = logging.getLogger("pytorch_lightning")
    level = lightning_log.level
    lightning_log.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        lightning_log.setLevel(level)
