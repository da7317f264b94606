"""The Optuna study loop behind `hydra/sweeper=optuna`: each trial runs as a Hydra job.

The study lives in `study.db` in the sweep directory unless `storage` names another database, so
re-running the same command (same `hydra.sweep.dir`) continues it: `n_trials` is the total,
finished trials are not rerun, job numbers are trial numbers, and trials a killed sweep left
RUNNING are marked failed and queued again. A trial that raises or returns NaN is recorded as
FAIL with its error and the sweep goes on, until the share of failed trials exceeds
`max_failure_rate`.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from trainrig.errors import ConfigError
from trainrig.sweeps.outputs import write_outputs
from trainrig.sweeps.search_space import SearchSpace, search_space

log = logging.getLogger(__name__)

STUDY_FILE = "study.db"
INTERRUPTED = "interrupted"  # user attribute of a trial a killed sweep left RUNNING


def _directions(direction: Any) -> list[Any]:
    directions = [direction] if isinstance(direction, str) else list(direction)
    for value in directions:
        if value not in ("minimize", "maximize"):
            raise ConfigError(
                f"hydra.sweeper.direction: {value!r}; choose minimize or maximize (or a list)"
            )
    return directions


def _sampler(node: Any, space: SearchSpace) -> Any:
    """The configured sampler; GridSampler gets the grid from the search space."""
    settings = OmegaConf.to_container(node) if isinstance(node, DictConfig) else dict(node)
    assert isinstance(settings, dict)
    if str(settings.get("_target_", "")).endswith("GridSampler"):
        missing = sorted(set(space.distributions) - set(space.grid))
        if missing:
            raise ConfigError(
                f"grid search needs finite choices; {', '.join(missing)} is an interval: "
                "use choice(...) or range(...)"
            )
        settings.setdefault("search_space", space.grid)
    return instantiate(settings)


def _counted(study: Any, *states: str) -> int:
    """Trials in the named states, leaving out those a killed sweep interrupted."""
    from optuna.trial import TrialState

    chosen = tuple(TrialState[name] for name in states)
    trials = study.get_trials(deepcopy=False, states=chosen)
    return sum(1 for t in trials if INTERRUPTED not in t.user_attrs)


def finished_trials(study: Any) -> int:
    """Trials that count towards `n_trials`: complete, pruned or failed, not interrupted."""
    return _counted(study, "COMPLETE", "PRUNED", "FAIL")


def requeue_interrupted(study: Any) -> int:
    """Fail the trials a killed sweep left RUNNING and queue their parameters again."""
    from optuna.trial import TrialState

    stale = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    for trial in stale:
        study._storage.set_trial_user_attr(trial._trial_id, INTERRUPTED, True)
        study._storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)
        study.enqueue_trial(trial.params, skip_if_exists=False)
    return len(stale)


def _value(result: Any) -> tuple[float | None, str | None]:
    """The objective a job returned, or None and why it cannot be used."""
    try:
        value = result.return_value
    except Exception as error:
        return None, f"{type(error).__name__}: {error}"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None, f"the job returned {value!r}, not a number"
    if not math.isfinite(number):
        return None, f"the objective is {number}"
    return number, None


def run_study(
    settings: dict[str, Any], config: DictConfig, launcher: Any, arguments: list[str]
) -> Any:
    """Run trials until the study holds `n_trials` finished ones; write the sweep's outputs."""
    import optuna

    sweep_dir = Path(config.hydra.sweep.dir)
    sweep_dir.mkdir(parents=True, exist_ok=True)
    OmegaConf.save(config, sweep_dir / "multirun.yaml")
    space = search_space(dict(settings.get("params") or {}), arguments)
    storage = settings.get("storage") or f"sqlite:///{(sweep_dir / STUDY_FILE).resolve()}"
    study = optuna.create_study(
        storage=storage,
        study_name=settings.get("study_name") or "trainrig",
        sampler=_sampler(settings.get("sampler") or {}, space),
        directions=_directions(settings.get("direction", "minimize")),
        load_if_exists=True,
    )
    requeued = requeue_interrupted(study)
    if requeued:
        log.info("re-queued %d trials a stopped sweep left running", requeued)
    n_trials = int(settings.get("n_trials", 20))
    max_failure_rate = float(settings.get("max_failure_rate", 0.5))

    def objective(trial: Any) -> float:
        params = {name: suggest(trial, name, d) for name, d in space.distributions.items()}
        overrides = [*space.fixed, *(f"{k}={v}" for k, v in params.items())]
        (result,) = launcher.launch([overrides], initial_job_idx=trial.number)
        value, error = _value(result)
        if error is not None:
            trial.set_user_attr("error", error)
            log.warning("trial %d failed: %s", trial.number, error)
            raise TrialFailed(error)
        return value  # type: ignore[return-value]

    remaining = n_trials - finished_trials(study)
    if remaining > 0:
        study.optimize(
            objective,
            n_trials=remaining,
            catch=(TrialFailed,),
            callbacks=[lambda study, _: _check_failure_rate(study, max_failure_rate)],
        )
    write_outputs(study, sweep_dir)
    return study


class TrialFailed(Exception):
    """A trial's job raised, or returned no usable objective; the trial is recorded as FAIL."""


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


def _check_failure_rate(study: Any, max_failure_rate: float) -> None:
    finished, failed = finished_trials(study), _counted(study, "FAIL")
    if finished and failed / finished > max_failure_rate:
        raise ConfigError(
            f"{failed} of {finished} trials failed, more than "
            f"hydra.sweeper.max_failure_rate={max_failure_rate}; see each trial's error in the "
            "study's user attributes and its job directory"
        )
