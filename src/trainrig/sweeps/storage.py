"""Open (or create) the sweep's Optuna study on a storage with heartbeats.

Every running trial beats every `heartbeat_interval` seconds; a trial whose worker died (kill -9,
machine lost) goes stale after `grace_period`, is failed by the next worker that looks, and its
parameters are queued again (at most `max_retries` times) so the study still ends with n_trials.
"""

from __future__ import annotations

import time
import warnings
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from trainrig.config.errors import ConfigError
from trainrig.rundir.redaction import redacted

STUDY_FILE = "study.db"
WORKER = "worker"  # user attribute: host:pid of the process whose objective runs the trial
VISIBLE_GPUS = "cuda_visible_devices"  # user attribute: the GPUs the trial saw, when named
# The RDBStorage each study of open_study was created on (Optuna keeps its own in `Study._storage`)
_opened: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def storage_url(settings: dict[str, Any], sweep_dir: Path) -> str:
    """The configured storage URL, or a SQLite file `study.db` in the sweep directory."""
    url = settings.get("storage")
    return str(url) if url else f"sqlite:///{(sweep_dir / STUDY_FILE).resolve()}"


@contextmanager
def _experimental_ok() -> Iterator[None]:
    """Silence Optuna's ExperimentalWarning for the features named in this module's docstring."""
    from optuna.exceptions import ExperimentalWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExperimentalWarning)
        yield


def _storage(url: str, settings: dict[str, Any]) -> Any:
    import optuna

    interval = int(settings.get("heartbeat_interval") or 5)
    sqlite = url.startswith("sqlite")
    retry = optuna.storages.RetryHeartbeatStaleTrialCallback(settings.get("max_retries", 3))
    storage = optuna.storages.RDBStorage(
        url,
        engine_kwargs={"connect_args": {"timeout": 60}} if sqlite else None,
        heartbeat_interval=interval,
        grace_period=settings.get("grace_period") or 2 * interval + 2,
        heartbeat_stale_trial_callback=retry,
    )
    if sqlite:
        _write_ahead_log(storage)
    return storage


def _write_ahead_log(storage: Any) -> None:
    """Put the SQLite file in write-ahead-log mode (kept in the file, so once is enough):
    readers stop blocking the writer, and each write (a trial's per-epoch report among them)
    commits in about half the time. The processes sharing the file must be on one machine, as
    they must anyway with SQLite; machines share a study through a server (PostgreSQL)."""
    with storage.engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA journal_mode=WAL")


def _storage_retried(url: str, settings: dict[str, Any], attempts: int = 5) -> Any:
    """The storage; retried, since processes that start together on an empty database race to
    create Optuna's tables and all but one of them fail once."""
    for attempt in range(attempts):
        try:
            with _experimental_ok():
                return _storage(url, settings)
        except Exception:
            if attempt == attempts - 1:
                raise
            time.sleep(0.5 * (attempt + 1))
    raise AssertionError("unreachable")


def open_study(
    settings: dict[str, Any],
    sweep_dir: Path,
    sampler: Any,
    pruner: Any,
    metric_names: list[str],
    directions: list[Any],
) -> Any:
    """The study named `study_name` on the sweep's storage, created on first use."""
    import optuna

    url = storage_url(settings, sweep_dir)
    try:
        storage = _storage_retried(url, settings)
    except Exception as error:
        reason = redacted(str(error).splitlines()[0])
        raise ConfigError(
            f"hydra.sweeper.storage: cannot open {redacted(url)} ({reason}); check the URL, "
            "that the database server runs and that its driver is installed "
            "(pip install 'trainrig[postgres]' for postgresql://)"
        ) from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # the sweep prints its own progress
    study = optuna.create_study(
        storage=storage,
        study_name=settings.get("study_name") or "trainrig",
        sampler=sampler,
        pruner=pruner,
        directions=directions,
        load_if_exists=True,
    )
    with _experimental_ok():
        study.set_metric_names(metric_names)
    _opened[study] = storage
    return study


def fail_stale_trials(study: Any) -> None:
    """Fail trials whose worker stopped beating, queueing them again (Optuna's own mechanism),
    and trials whose worker died before their first beat."""
    import optuna

    with _experimental_ok():
        optuna.storages.fail_stale_trials(study)
    _fail_trials_that_never_started(study)


def _fail_trials_that_never_started(study: Any) -> None:
    """Fail and re-queue RUNNING trials older than the grace period that never reached the
    objective (no WORKER attribute): their process died between Optuna creating the trial and
    its first heartbeat, which Optuna's stale check cannot see (it skips trials with no beat).
    Trial start times come from each worker's clock, so machines sharing a study need clocks
    that agree within the grace period."""
    from optuna.exceptions import UpdateFinishedTrialError
    from optuna.trial import TrialState

    storage = _opened.get(study)
    if storage is None:  # a study open_study did not open: no heartbeat settings to go by
        return
    grace = timedelta(seconds=storage.grace_period or 2 * storage.heartbeat_interval)
    now = datetime.now()
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        started = trial.datetime_start
        if WORKER in trial.user_attrs or started is None or now - started <= grace:
            continue
        trial_id = trial_id_of(storage, study.study_name, trial.number)
        try:
            if not storage.set_trial_state_values(trial_id, state=TrialState.FAIL):
                continue
        except UpdateFinishedTrialError:
            continue  # another worker failed it first
        retry = storage.get_heartbeat_stale_trial_callback()
        if retry is not None:
            retry(study, storage.get_trial(trial_id))


def trial_id_of(storage: Any, study_name: str, number: int) -> int:
    """The storage's id of trial `number` of study `study_name` (Optuna's public storage API;
    `Trial._trial_id` holds the same number)."""
    study_id = storage.get_study_id_from_name(study_name)
    trial_id: int = storage.get_trial_id_from_study_id_trial_number(study_id, number)
    return trial_id
