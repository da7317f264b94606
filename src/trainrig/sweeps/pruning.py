"""Optuna pruning inside a trial's training: report the monitored metric each epoch, stop if told.

The sweeper hands the callback to the training through the config's `callbacks` hook
(training/hooks.py): each trial's overrides end in `++callbacks.optuna_pruning={...}` with the
trial's identity as plain values (study name, trial number, pruner). The storage URL may hold a
password, so it never enters a command line, a log or a stored config: it travels in the
environment variable TRAINRIG_OPTUNA_STORAGE, which the sweeper sets while a trial's job runs and
DDP ranks and worker processes inherit. So a trial
reports the same way in the sweeper's process, in a worker process, on another machine, and from
every rank of a DDP trial (ranks compose the job's overrides again; only rank 0 talks to the
study, and the decision is broadcast so all ranks stop together). After fit, the runner calls
`after_fit`, which ends a pruned trial with optuna.TrialPruned before the test. In the sweeper's
own process the live trial object is used (`live_trial`), which saves reconnecting to the storage.
"""

from __future__ import annotations

import os
import re
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytorch_lightning as pl
from pytorch_lightning.trainer.states import TrainerFn

from trainrig.sweeps import PRUNING_CALLBACK

STORAGE_ENV = "TRAINRIG_OPTUNA_STORAGE"
_live_trials: dict[tuple[str, int], Any] = {}  # (study name, number) -> trial of this process


@contextmanager
def storage_in_environment(storage: str) -> Iterator[None]:
    """The study's storage URL in STORAGE_ENV while the block runs, for the processes it starts.

    Nothing changes when the variable already holds `storage`: the sweep sets it once while its
    trials are in flight on other processes (`in_flight.py`), so the slot threads never write it
    while another one starts a job with a copy of the environment.
    """
    before = os.environ.get(STORAGE_ENV)
    if before == storage:
        yield
        return
    os.environ[STORAGE_ENV] = storage
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(STORAGE_ENV, None)
        else:
            os.environ[STORAGE_ENV] = before


@contextmanager
def live_trial(trial: Any, storage: str) -> Iterator[None]:
    """While the trial's job runs in this process, its callback uses `trial` itself; processes it
    starts (DDP ranks, a launcher's jobs) find the study's storage in the environment."""
    key = (trial.study.study_name, trial.number)
    _live_trials[key] = trial
    try:
        with storage_in_environment(storage):
            yield
    finally:
        _live_trials.pop(key, None)


class Interpolation(str):
    """A `${...}` written into an override as it is, for the job's config to resolve."""


def _hydra_value(value: Any) -> str:
    """`value` (None, bool, number, str, list, dict) written in Hydra's override grammar."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ",".join(_hydra_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{k}:{_hydra_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, Interpolation):
        return str(value)
    # Hydra's quoted string: backslashes before a quote (or the closing one) doubled, the quote
    # escaped; `\${` keeps a literal `${` from being read as an interpolation.
    text = re.sub(r"(\\*)('|$)", lambda m: m[1] * 2 + ("\\" + m[2] if m[2] else ""), str(value))
    return "'" + text.replace("${", "\\${") + "'"


def trial_callback_override(trial: Any, pruner: dict[str, Any] | None) -> str:
    """The override that gives `trial`'s training its pruning callback (for its last place)."""
    node = {
        "_target_": f"{__name__}.OptunaPruning",
        "study_name": trial.study.study_name,
        "trial_number": trial.number,
        "pruner": pruner,
        "monitor": Interpolation("${checkpoint.monitor}"),
        "_recursive_": False,  # the pruner stays a config, built only where it is used (rank 0)
    }
    return f"++callbacks.{PRUNING_CALLBACK}={_hydra_value(node)}"


def _reconnected(storage: str, study_name: str, number: int, pruner: Any) -> Any:
    """The trial, from another process: its study loaded from the storage, with its pruner."""
    import optuna
    from hydra.utils import instantiate
    from omegaconf import OmegaConf

    settings = OmegaConf.to_container(pruner) if OmegaConf.is_config(pruner) else pruner
    study = optuna.load_study(
        study_name=study_name,
        storage=storage,
        pruner=instantiate(settings) if settings else None,
    )
    database = optuna.storages.get_storage(storage)
    study_id = database.get_study_id_from_name(study_name)
    trial_id = database.get_trial_id_from_study_id_trial_number(study_id, number)
    return optuna.trial.Trial(study, trial_id)


def _storage_from_environment() -> str:
    storage = os.environ.get(STORAGE_ENV)
    if not storage:
        raise RuntimeError(
            f"callbacks.{PRUNING_CALLBACK}: the study's storage URL comes from the environment "
            f"variable {STORAGE_ENV}, which trainrig's sweeper sets while a trial runs; set it to "
            "the sweep's storage (e.g. sqlite:///outputs/sweeps/NAME/study.db) to run a trial alone"
        )
    return storage


class OptunaPruning(pl.Callback):
    """Reports `monitor` after each epoch's validation (stopping training when the pruner says so)
    and the fit's duration (user attribute `fit_seconds`) to the trial; `after_fit` raises
    optuna.TrialPruned when it stopped the training."""

    def __init__(
        self, study_name: str, trial_number: int, monitor: str, pruner: Any = None
    ) -> None:
        self.study_name = study_name
        self.trial_number = trial_number
        self.monitor = monitor
        self.pruner = pruner  # the sweeper's pruner config; None: a study Optuna cannot prune
        self.pruned_at: int | None = None
        self._trial: Any = None
        self._fit_started = 0.0

    @property
    def trial(self) -> Any:
        if self._trial is None:
            live = _live_trials.get((self.study_name, self.trial_number))
            self._trial = live or _reconnected(
                _storage_from_environment(), self.study_name, self.trial_number, self.pruner
            )
        return self._trial

    def _should_prune(self, trainer: pl.Trainer) -> bool:
        value = trainer.callback_metrics.get(self.monitor)
        if value is None:
            return False
        with warnings.catch_warnings():  # a repeated trial's later repetitions (repeat.seeds)
            # report epochs the first one reported: Optuna keeps the first value and warns
            warnings.filterwarnings("ignore", "The reported value is ignored", UserWarning)
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
        if not self.pruner:
            return  # a multi-objective study: Optuna cannot prune it
        prune = self._should_prune(trainer) if trainer.is_global_zero else False
        if trainer.strategy.broadcast(prune, src=0):
            self.pruned_at = trainer.current_epoch
            trainer.should_stop = True

    def after_fit(self, trainer: pl.Trainer) -> None:
        """End the trial as PRUNED (optuna.TrialPruned) if the pruner stopped its training."""
        if self.pruned_at is not None:
            import optuna

            raise optuna.TrialPruned(f"pruned after epoch {self.pruned_at}")
