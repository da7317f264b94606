"""MLflow metrics held until a checkpoint covers their step, so a resumed run logs each once.

An MLflow run keeps every metric it is sent and cannot forget one, so the steps a run logged
after its last checkpoint would appear twice once it resumes and trains them again. Here such
metrics wait in memory until a saved checkpoint covers their step (its global step is past
theirs): what a kill -9 loses is exactly what the resumed run logs again. The CSV and
TensorBoard records, which can be cut, are cut at the resumed step instead
(`KeepRecordsOfResumedSteps`): either way a record holds every step once.
"""

from __future__ import annotations

from argparse import Namespace
from collections.abc import Mapping
from typing import Any

import pytorch_lightning as pl
from pytorch_lightning.callbacks import Checkpoint
from pytorch_lightning.loggers import MLFlowLogger
from pytorch_lightning.utilities import rank_zero_only


class HeldMLFlowLogger(MLFlowLogger):
    """Lightning's MLFlowLogger that, while fitting, holds the metrics of uncovered steps and
    carries on in the run an earlier start made."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.held: list[tuple[dict[str, float], int | None]] = []
        self.covered: int | None = None  # steps below it are in a checkpoint; None: not held

    @rank_zero_only
    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        """Sent at once, or held while no saved checkpoint covers `step`."""
        if self.covered is not None and (step or 0) >= self.covered:
            self.held.append((dict(metrics), step))
            return
        super().log_metrics(metrics, step)

    @rank_zero_only
    def log_hyperparams(self, params: dict[str, Any] | Namespace) -> None:
        """The params the MLflow run lacks: a run that resumes (`resume=auto`, a lengthened
        `trainer.max_epochs`) keeps the values its first start logged, as MLflow refuses to
        change a param."""
        given = vars(params) if isinstance(params, Namespace) else dict(params)
        known = self.experiment.get_run(self.run_id).data.params if self.run_id else {}
        super().log_hyperparams({key: value for key, value in given.items() if key not in known})

    def release(self, covered: int | None) -> None:
        """Send the held metrics of steps below `covered` (all of them when None)."""
        self.covered = covered
        held, self.held = self.held, []
        for metrics, step in held:
            self.log_metrics(metrics, step)  # holds again those `covered` does not reach

    @rank_zero_only
    def finalize(self, status: str = "success") -> None:
        """A fit that ended (or a Slurm requeue, which saves the step next) sends what it
        holds; a failed one drops it: resuming trains those steps again."""
        if status in ("success", "finished"):
            self.release(None)
        super().finalize(status)


class ReleaseCoveredMetrics(Checkpoint):
    """Holds each `HeldMLFlowLogger`'s metrics from the step training starts at and releases
    them once a checkpoint covering them is on disk.

    A `Checkpoint` subclass only for its place: Lightning calls checkpoint callbacks last, in
    their order, so this one's hooks run after the `ModelCheckpoint`s before it have saved.
    """

    def __init__(self) -> None:
        self.saved: int | None = None  # the global step of a checkpoint saved since the release

    @staticmethod
    def _loggers(trainer: pl.Trainer) -> list[HeldMLFlowLogger]:
        return [lg for lg in trainer.loggers if isinstance(lg, HeldMLFlowLogger)]

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """Hold from the restored step (0 for a new run): the checkpoint covers those before."""
        for logger in self._loggers(trainer):
            logger.release(trainer.global_step)

    def on_save_checkpoint(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, checkpoint: dict[str, Any]
    ) -> None:
        """A checkpoint is being written: its steps are released after the hook that saves it."""
        self.saved = int(checkpoint["global_step"])

    def _release_saved(self, trainer: pl.Trainer) -> None:
        if self.saved is not None:
            for logger in self._loggers(trainer):
                logger.release(self.saved)
            self.saved = None

    def on_train_batch_end(self, trainer: pl.Trainer, *args: Any) -> None:
        """After a checkpoint saved every n steps."""
        self._release_saved(trainer)

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """After the checkpoints saved when validation ends."""
        self._release_saved(trainer)

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """After the checkpoints saved when the epoch ends."""
        self._release_saved(trainer)

    def on_exception(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, exception: BaseException
    ) -> None:
        """After the checkpoint an interruption saves (`StopOnSignal`, called before)."""
        self._release_saved(trainer)
