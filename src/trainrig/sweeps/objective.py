"""One Optuna trial as one Hydra job: sample, launch, read the objective back.

The job's overrides are the fixed overrides plus the trial's parameters (and whatever a
`custom_search_space` function suggested), then, in trainrig's own app, the trial's pruning
callback (`pruning.py`). A job that raised, returned NaN/inf or the wrong number of values makes
the trial FAIL with its error: one log line here, the traceback in the job's log file; one whose
training was pruned makes it PRUNED.
"""

from __future__ import annotations

import contextlib
import io
import logging
import math
import os
import socket
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from trainrig.config.errors import ConfigError
from trainrig.sweeps.constraints import Constraint, record_constraints
from trainrig.sweeps.search_space import SearchSpace
from trainrig.sweeps.storage import VISIBLE_GPUS, WORKER
from trainrig.sweeps.tally import NOT_COUNTED, is_surplus

log = logging.getLogger(__name__)


class TrialFailed(Exception):
    """A trial's job raised, or returned no usable objective; the trial is recorded as FAIL."""


class SurplusTrial(Exception):
    """Another worker started the last trial first; this one is recorded as not counted."""


class _ReportedFailures(logging.Filter):
    """Drops Optuna's warning and traceback for a trial failure this module already logged, or
    a ConfigError the sweep stops with (the CLI reports it in one line)."""

    def filter(self, record: logging.LogRecord) -> bool:
        raised = record.exc_info[1] if record.exc_info else None
        return not isinstance(raised, TrialFailed | SurplusTrial | ConfigError)


def quiet_reported_failures() -> None:
    """Install the filter on the logger of Optuna's optimize loop (once)."""
    optimize_log = logging.getLogger("optuna.study._optimize")
    if not any(isinstance(f, _ReportedFailures) for f in optimize_log.filters):
        optimize_log.addFilter(_ReportedFailures())


def suggest(trial: Any, name: str, distribution: Any) -> Any:
    """Sample `name` from `distribution` through the trial's public suggest API."""
    from optuna.distributions import CategoricalDistribution, IntDistribution

    if isinstance(distribution, CategoricalDistribution):
        return trial.suggest_categorical(name, distribution.choices)
    if isinstance(distribution, IntDistribution):
        return trial.suggest_int(
            name, distribution.low, distribution.high, step=distribution.step, log=distribution.log
        )
    return trial.suggest_float(
        name, distribution.low, distribution.high, step=distribution.step, log=distribution.log
    )


def _job_error(result: Any) -> BaseException | None:
    """The exception a Hydra job raised, read through `JobReturn.return_value` (which raises it)
    without the 'Error executing job' line that property writes to standard error."""
    from hydra.core.utils import JobStatus

    if result.status != JobStatus.FAILED:
        return None
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            raised = result.return_value  # noqa: F841  (raises what the job raised)
    except BaseException as error:  # what the job raised, KeyboardInterrupt and TrialPruned too
        return error
    return None


def _log_traceback(result: Any, error: BaseException) -> None:
    """Append the job's traceback to its log file (Hydra's job logging file handler, else
    `<job dir>/<job name>.log`), so the sweep's own output keeps one line per failed trial."""
    hydra = result.hydra_cfg
    if hydra is None:
        return
    try:
        name = OmegaConf.select(hydra, "hydra.job_logging.handlers.file.filename")
        name = name or f"{hydra.hydra.runtime.output_dir}/{hydra.hydra.job.name}.log"
        with Path(name).open("a", encoding="utf-8") as log_file:
            log_file.write("".join(traceback.format_exception(error)))
    except Exception as failure:  # the trial's failure is recorded anyway
        log.debug("could not write the trial's traceback: %s", failure)


def objective_values(result: Any, count: int) -> float | list[float]:
    """The job's objective: `count` finite numbers, else TrialFailed; TrialPruned passes."""
    import optuna

    error = _job_error(result)
    if isinstance(error, optuna.TrialPruned):
        raise error
    if error is not None:
        _log_traceback(result, error)
        raise TrialFailed(f"{type(error).__name__}: {error}")
    value = result.return_value
    values = list(value) if isinstance(value, (list, tuple)) else [value]
    if len(values) != count:
        raise TrialFailed(f"the job returned {value!r}; the study has {count} objective(s)")
    try:
        numbers = [float(v) for v in values]
    except (TypeError, ValueError):
        raise TrialFailed(f"the job returned {value!r}, not a number") from None
    if not all(math.isfinite(n) for n in numbers):
        raise TrialFailed(f"the objective is {value}")
    return numbers[0] if count == 1 else numbers


def make_objective(
    space: SearchSpace,
    launcher: Any,
    n_trials: int,
    storage: str,
    pruner: dict[str, Any] | None,
    extend: Callable[[Any, Any], Any] | None,
    config: Any,
    own_app: bool = True,
    constraints: list[Constraint] | None = None,
) -> Callable[[Any], float | list[float]]:
    """The function `study.optimize` calls: one trial, run as the Hydra job number trial.number.

    In another Hydra app (`own_app` false) the job gets no pruning callback: its task function
    reports no epochs, and Lightning is not imported. A completed trial's `constraints` are
    judged by its run's metrics.json.
    """

    def run_trial(trial: Any) -> float | list[float]:
        trial.set_user_attr(WORKER, f"{socket.gethostname()}:{os.getpid()}")
        if (gpus := os.environ.get("CUDA_VISIBLE_DEVICES")) is not None:
            trial.set_user_attr(VISIBLE_GPUS, gpus)  # a worker's own with gpus_per_trial
        if is_surplus(trial.study, trial.number, n_trials):
            trial.set_user_attr(NOT_COUNTED, "another worker started the last trial first")
            raise SurplusTrial
        for name, distribution in space.distributions.items():
            suggest(trial, name, distribution)
        if extend is not None:
            extend(config, trial)
        overrides = [*space.fixed, *(f"{k}={v}" for k, v in trial.params.items())]
        try:
            if own_app:
                from trainrig.sweeps.pruning import live_trial, trial_callback_override

                overrides.append(trial_callback_override(trial, pruner))
                with live_trial(trial, storage):
                    (result,) = launcher.launch([overrides], initial_job_idx=trial.number)
            else:
                (result,) = launcher.launch([overrides], initial_job_idx=trial.number)
            values = objective_values(result, len(trial.study.directions))
        except TrialFailed as error:
            trial.set_user_attr("error", str(error))
            log.warning("trial %d failed: %s", trial.number, error)
            raise
        record_constraints(trial, constraints or [], result)
        return values

    def objective(trial: Any) -> float | list[float]:
        try:
            return run_trial(trial)
        except KeyboardInterrupt:
            # Optuna would record FAIL; SystemExit leaves the trial RUNNING, so a resumed sweep
            # finds it stale (heartbeat) and runs it again; Lightning's Ctrl-C ends that way too.
            raise SystemExit(130) from None

    return objective
