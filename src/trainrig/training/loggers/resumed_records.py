"""The records of a resumed run hold every step once: the CSV and TensorBoard records are cut at
the restored step (the steps after it are trained again) and an epoch's training row that a kill
kept from them is written from the checkpoint. MLflow's record, which cannot be cut, is held
instead (held_metrics.py); the checkpoint's training row reaches it too.

Lightning saves an epoch's checkpoints when the epoch's training ends (or its validation, at the
last batch) and logs the epoch's training figures (`on_epoch` metrics) only after that: a run
killed in between would resume after the epoch without its training row. The checkpoint carries
that row, and the resumed run writes it to each record that lacks it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytorch_lightning as pl
from pytorch_lightning.callbacks import Callback
from pytorch_lightning.loggers import Logger, TensorBoardLogger

from trainrig.training.loggers.held_metrics import HeldMLFlowLogger
from trainrig.training.loggers.resumable_csv import AppendingWriter, ResumableCSVLogger

EPOCH_ROW = "trainrig_epoch_training_row"  # the checkpoint's key: {"step": int, "metrics": {...}}


def epoch_row_to_come(trainer: pl.Trainer) -> tuple[int, dict[str, float]] | None:
    """The epoch's training row Lightning logs after the checkpoint now being saved, with its
    step; None when the save is not at the epoch's end or the epoch logs no training figure.

    Read from the training loop's result collection (`epoch_loop._results`) and step counter
    (`_batches_that_stepped`), private: Lightning offers the epoch's figures only once logged.
    Guarded by tests/test_private_api_guards.py.
    """
    progress = trainer.fit_loop.epoch_progress.current  # a processed tracker, typed as its base
    epoch_ended = getattr(progress, "processed", 0) > progress.completed  # its end hooks run
    if not trainer.is_last_batch or not (epoch_ended or trainer.validating):
        return None
    loop = trainer.fit_loop.epoch_loop
    logged = loop._results.metrics(on_step=False)["log"]  # what Lightning is about to log
    metrics = {name: float(value) for name, value in logged.items()}
    if not metrics:
        return None
    if "step" in metrics:  # as Lightning's logger connector: a logged `step` is the row's step
        return int(metrics.pop("step")), metrics
    metrics.setdefault("epoch", trainer.current_epoch)  # an int, as Lightning logs it
    return loop._batches_that_stepped - 1, metrics  # the step Lightning logs the row at


def has_row(logger: Logger, step: int, metrics: dict[str, float]) -> bool | None:
    """Whether `logger`'s record holds the row of `step` with `metrics`; None: not known."""
    names = [name for name in metrics if name != "epoch"]
    if isinstance(logger, ResumableCSVLogger):
        writer = logger.experiment
        return isinstance(writer, AppendingWriter) and writer.has_row(step, names)
    if isinstance(logger, TensorBoardLogger):
        from tensorboard.backend.event_processing.event_file_loader import EventFileLoader

        for path in sorted(Path(logger.log_dir).glob("events.out.tfevents.*")):
            for event in EventFileLoader(str(path)).Load():
                if event.step == step and any(v.tag in names for v in event.summary.value):
                    return True
        return False
    if isinstance(logger, HeldMLFlowLogger) and logger.run_id is not None:
        history = logger.experiment.get_metric_history(logger.run_id, names[0])
        return any(entry.step == step for entry in history)
    return None


class KeepRecordsOfResumedSteps(Callback):
    """Before training logs anything, cut the CSV and TensorBoard records at the restored step
    and write the epoch's training row the checkpoint carries where a record lacks it."""

    def __init__(self) -> None:
        self.owed: dict[str, Any] | None = None  # the resumed checkpoint's EPOCH_ROW

    def on_save_checkpoint(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, checkpoint: dict[str, Any]
    ) -> None:
        """A checkpoint saved at the epoch's end carries the training row logged after it."""
        row = epoch_row_to_come(trainer)
        if row is not None:
            checkpoint[EPOCH_ROW] = {"step": row[0], "metrics": row[1]}

    def on_load_checkpoint(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, checkpoint: dict[str, Any]
    ) -> None:
        """Keep the row the resumed checkpoint carries, for `on_train_start`."""
        self.owed = checkpoint.get(EPOCH_ROW)

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """Rows of steps at or after the restored global step (0 for a new run) go; TensorBoard
        events from that step on are hidden by a restart marker at that step, which its readers
        honour (SummaryWriter's `purge_step`, set here on the logger's open writer: the writer
        reopens its file with the marker on its next write). Then the owed row is written."""
        if not trainer.is_global_zero:
            return
        for logger in trainer.loggers:
            if isinstance(logger, ResumableCSVLogger):
                writer = logger.experiment
                if isinstance(writer, AppendingWriter):
                    writer.keep_steps_before(trainer.global_step)
            elif isinstance(logger, TensorBoardLogger) and trainer.global_step > 0:
                summary_writer = logger.experiment
                summary_writer.purge_step = trainer.global_step
                summary_writer.close()
        if self.owed is not None:
            step, metrics = int(self.owed["step"]), dict(self.owed["metrics"])
            for logger in trainer.loggers:
                if has_row(logger, step, metrics) is False:
                    logger.log_metrics(metrics, step)
                    logger.save()
