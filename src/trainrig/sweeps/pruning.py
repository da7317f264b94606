"""Optuna pruning inside a trial's training: report the monitored metric each epoch, stop if told.

The sweeper names the trial in the environment variable TRAINRIG_OPTUNA_TRIAL (JSON: storage URL,
study name, trial id, pruner), so a trial reports the same way in the sweeper's process, in a worker
process, on another machine, and from every rank of a DDP trial (only rank 0 talks to the study;
the decision is broadcast so all ranks stop together). In the sweeper's own process the live trial
object is used, which saves reconnecting to the storage.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytorch_lightning as pl
from pytorch_lightning.trainer.states import TrainerFn

from trainrig.sweeps.storage import trial_id_of

TRIAL_ENV = "TRAINRIG_OPTUNA_TRIAL"
_live_trials: dict[int, Any] = {}  # trial id -> optuna Trial, for trials run in this process


@contextmanager
def trial_in_environment(trial: Any, storage: str, pruner: dict[str, Any] | None) -> Iterator[None]:
    """Name `trial` to the training it launches, in this process and in its children."""
    trial_id = trial_id_of(trial.storage, trial.study.study_name, trial.number)
    os.environ[TRIAL_ENV] = json.dumps(
        {
            "storage": storage,
            "study_name": trial.study.study_name,
            "trial_id": trial_id,
            "pruner": pruner,
        }
    )
    _live_trials[trial_id] = trial
    try:
        yield
    finally:
        _live_trials.pop(trial_id, None)
        os.environ.pop(TRIAL_ENV, None)


def _trial_from_environment(handle: dict[str, Any]) -> Any:
    """The trial named by the environment, reconnected to its study and pruner."""
    live = _live_trials.get(handle["trial_id"])
    if live is not None:
        return live
    import optuna
    from hydra.utils import instantiate

    study = optuna.load_study(
        study_name=handle["study_name"],
        storage=handle["storage"],
        pruner=instantiate(handle["pruner"]) if handle.get("pruner") else None,
    )
    return optuna.trial.Trial(study, handle["trial_id"])


class OptunaPruning(pl.Callback):
    """Reports `monitor` after each epoch's validation (stopping training when the pruner says so)
    and the fit's duration (user attribute `fit_seconds`) to the trial."""

    def __init__(self, handle: dict[str, Any], monitor: str) -> None:
        self.handle = handle
        self.monitor = monitor
        self.pruned_at: int | None = None
        self._trial: Any = None
        self._fit_started = 0.0

    @property
    def trial(self) -> Any:
        if self._trial is None:
            self._trial = _trial_from_environment(self.handle)
        return self._trial

    def _should_prune(self, trainer: pl.Trainer) -> bool:
        value = trainer.callback_metrics.get(self.monitor)
        if value is None:
            return False
        self.trial.report(float(value), step=trainer.current_epoch)
        return bool(self.trial.should_prune())

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._fit_started = time.monotonic()

    def on_fit_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.is_global_zero:
            seconds = round(time.monotonic() - self._fit_started, 3)
            self.trial.set_user_attr("fit_seconds", seconds)

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.sanity_checking or trainer.state.fn != TrainerFn.FITTING:
            return  # not the sanity check, nor the final validation of the best checkpoint
        if self.handle.get("pruner") is None:
            return  # a multi-objective study: Optuna cannot prune it
        prune = self._should_prune(trainer) if trainer.is_global_zero else False
        if trainer.strategy.broadcast(prune, src=0):
            self.pruned_at = trainer.current_epoch
            trainer.should_stop = True


def pruning_callbacks(monitor: str) -> list[pl.Callback]:
    """The reporting callback when this training is an Optuna trial, else none."""
    text = os.environ.get(TRIAL_ENV)
    return [OptunaPruning(json.loads(text), monitor)] if text else []


def raise_if_pruned(trainer: pl.Trainer) -> None:
    """End the trial as PRUNED (optuna.TrialPruned) if the pruner stopped its training."""
    for callback in trainer.callbacks:  # type: ignore[attr-defined]
        if isinstance(callback, OptunaPruning) and callback.pruned_at is not None:
            import optuna

            raise optuna.TrialPruned(f"pruned after epoch {callback.pruned_at}")
