"""A CSV logger for runs that resume: the rows of the earlier start stay, those of steps after
the resumed checkpoint go (they are trained again), so every epoch appears exactly once.

Lightning's CSV writer deletes `metrics.csv` when it starts in a folder that holds one (it warns
so); this writer keeps the file and its header, and `KeepRecordsOfResumedSteps` cuts it at the
restored global step before training logs anything. It cuts TensorBoard's record at that step
too, as SummaryWriter's `purge_step` does; MLflow's, which cannot be cut, is held instead
(held_metrics.py).
"""

from __future__ import annotations

import csv
import io
import os
import warnings
from pathlib import Path

import pytorch_lightning as pl
from lightning_fabric.loggers.logger import rank_zero_experiment
from pytorch_lightning.callbacks import Callback
from pytorch_lightning.loggers import CSVLogger, TensorBoardLogger
from pytorch_lightning.loggers.csv_logs import ExperimentWriter

from trainrig.rundir.results import write_atomic


class AppendingWriter(ExperimentWriter):
    """Lightning's CSV writer that keeps the rows and the columns a previous start wrote."""

    def __init__(self, log_dir: str) -> None:
        path = Path(log_dir) / self.NAME_METRICS_FILE
        kept = path.with_name(f".{path.name}.kept")
        if path.is_file():  # a second name for the file while Lightning deletes the first
            kept.unlink(missing_ok=True)
            os.link(path, kept)
        with warnings.catch_warnings():  # "previous log files will be deleted": not here
            warnings.simplefilter("ignore")
            super().__init__(log_dir)
        if kept.is_file():
            os.replace(kept, path)
            with path.open(newline="", encoding="utf-8") as file:
                self.metrics_keys = sorted(next(csv.reader(file), []))

    def keep_steps_before(self, step: int) -> None:
        """Drop the saved rows of `step` and later: the run trains them again."""
        path = Path(self.metrics_file_path)
        if not path.is_file():
            return
        with path.open(newline="", encoding="utf-8") as file:
            reader = csv.DictReader(file)
            fields, rows = list(reader.fieldnames or []), list(reader)
        kept = [row for row in rows if row.get("step") and float(row["step"]) < step]
        if len(kept) == len(rows):
            return
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(kept)
        write_atomic(path, out.getvalue())


class ResumableCSVLogger(CSVLogger):
    """Lightning's CSVLogger with the `AppendingWriter`."""

    @property
    @rank_zero_experiment
    def experiment(self) -> AppendingWriter:
        """The writer, made on first use (a rank other than 0 gets Lightning's stand-in).

        Lightning's property makes its own writer; this one mirrors it with the appending
        writer, holding it in the `_experiment` attribute every Lightning logger keeps its
        experiment in (guarded by tests/test_private_api_guards.py).
        """
        writer = self._experiment
        if not isinstance(writer, AppendingWriter):
            os.makedirs(self.root_dir, exist_ok=True)
            writer = AppendingWriter(log_dir=self.log_dir)
            self._experiment = writer
        return writer


class KeepRecordsOfResumedSteps(Callback):
    """Before training logs anything, cut the CSV and TensorBoard logs at the restored step."""

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """Rows of steps at or after the restored global step (0 for a new run) go; TensorBoard
        events from that step on are hidden by a restart marker at that step, which its readers
        honour (SummaryWriter's `purge_step`, set here on the logger's open writer: the writer
        reopens its file with the marker on its next write)."""
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
