"""The Optuna study behind `hydra/sweeper=optuna`: each trial runs as a Hydra job.

The study lives in `study.db` in the sweep directory unless `storage` names another database, so
re-running the same command (same `hydra.sweep.dir`) continues it: `n_trials` is the total,
finished trials are not rerun, job numbers are trial numbers, and the trials of a dead worker are
failed and queued again (heartbeat). A trial that raises or returns NaN is recorded as FAIL with
its error and the sweep goes on, until the share of failed trials exceeds `max_failure_rate`.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hydra.utils import get_method, instantiate
from omegaconf import DictConfig, OmegaConf

from trainrig.cli.startup_gc import resume_collection, settle_collection
from trainrig.config.errors import ConfigError
from trainrig.config.target_allowlist import OPT_IN, check_callable_name, check_targets_resolve
from trainrig.rundir.redaction import redact_logs
from trainrig.rundir.results import write_atomic
from trainrig.sweeps.constraints import (
    check_constraints,
    check_study_constraints,
    parse_constraints,
)
from trainrig.sweeps.directions import app_objectives, trainrig_objectives
from trainrig.sweeps.enqueue import enqueue, enqueued_configs
from trainrig.sweeps.in_flight import InFlight, in_flight_slots, runs_in_process
from trainrig.sweeps.objective import (
    SurplusTrial,
    TrialFailed,
    make_objective,
    quiet_reported_failures,
)
from trainrig.sweeps.outputs import write_outputs
from trainrig.sweeps.plots import write_plots
from trainrig.sweeps.progress import best_trials_table, console, progress_line
from trainrig.sweeps.search_space import SearchSpace, legacy_search_space, search_space
from trainrig.sweeps.storage import fail_stale_trials, open_study, storage_url
from trainrig.sweeps.tally import Tally
from trainrig.sweeps.workers import (
    assign_devices,
    start_worker,
    threads_per_worker,
    visible_gpus,
    wait_for_exit,
)
from trainrig.tasks.settle import settled

log = logging.getLogger(__name__)
POLL_SECONDS = 1.0  # how often the sweep process redraws progress and checks for dead trials
IDLE_POLL_SECONDS = 0.2  # how often a worker with nothing to do checks whether the sweep ended


def _settings_dict(node: Any) -> dict[str, Any]:
    settings = OmegaConf.to_container(node) if isinstance(node, DictConfig) else dict(node or {})
    assert isinstance(settings, dict)
    return {str(k): v for k, v in settings.items()}


def _sampler(node: Any, space: SearchSpace, seed_offset: int = 0) -> Any:
    """The configured sampler; GridSampler gets the grid from the search space.

    Each worker adds its number to a fixed seed, so workers do not suggest the same trials.
    """
    settings = _settings_dict(node)
    if str(settings.get("_target_", "")).endswith("MOTPESampler"):
        raise ConfigError(
            "hydra/sweeper/sampler=motpe: the 'motpe' sampler was removed in Optuna 4.0; use "
            "hydra/sweeper/sampler=tpe (it handles several objectives) or nsgaii"
        )
    if settings.get("seed") is not None:
        settings["seed"] = int(settings["seed"]) + seed_offset
    if str(settings.get("_target_", "")).endswith("GridSampler"):
        missing = sorted(set(space.distributions) - set(space.grid))
        if missing:
            raise ConfigError(
                f"grid search needs finite choices; {', '.join(missing)} is an interval: "
                "use choice(...) or range(...)"
            )
        settings.setdefault("search_space", space.grid)
    return instantiate(settings)


def check_sweeper_targets(settings: dict[str, Any], allow_any: bool) -> None:
    """The sampler, the pruner and `custom_search_space` obey the `_target_` allow-list too."""
    if allow_any:
        return
    built = {key: settings.get(key) for key in ("sampler", "pruner")}  # what trainrig builds
    check_targets_resolve(built, allow_any, prefix="hydra.sweeper")
    extend = settings.get("custom_search_space")
    if extend:
        check_callable_name("hydra.sweeper.custom_search_space", str(extend))


def _pruner(
    settings: dict[str, Any], config: DictConfig, directions: list[str], own_app: bool
) -> Any:
    """The pruner's config, checked against the metric the training reports each epoch."""
    pruner = _settings_dict(settings.get("pruner") or {"_target_": "optuna.pruners.NopPruner"})
    if not own_app:  # another app's task function reports no intermediate values
        return None
    if pruner["_target_"].endswith("NopPruner"):
        return pruner if len(directions) == 1 else None
    if len(directions) > 1:
        raise ConfigError("pruning needs a single objective; use hydra/sweeper/pruner=none")
    mode = {"max": "maximize", "min": "minimize"}.get(config.checkpoint.mode)
    if mode != directions[0]:
        raise ConfigError(
            f"the pruner compares checkpoint.monitor={config.checkpoint.monitor} (mode "
            f"{config.checkpoint.mode}) across trials, but the study's direction is "
            f"{directions[0]}; make them agree"
        )
    return pruner


def _check_failure_rate(study: Any, max_failure_rate: float) -> None:
    tally = Tally.of(study)
    failed = tally.states["FAIL"]
    if tally.finished and failed / tally.finished > max_failure_rate:
        errors = [t.user_attrs["error"] for t in study.trials if "error" in t.user_attrs]
        last = f"; the last: {errors[-1]}" if errors else ""
        raise ConfigError(
            f"{failed} of {tally.finished} trials failed, more than "
            f"hydra.sweeper.max_failure_rate={max_failure_rate}{last}; see each trial's error in "
            "the study's user attributes and the traceback in its job directory's log"
        )


def work(
    study: Any,
    objective: Any,
    n_trials: int,
    after_trial: Any,
    stop: threading.Event | None = None,
) -> None:
    """Run trials in this process until the study holds n_trials finished ones (or `stop`)."""
    warm = False
    quiet_reported_failures()
    while stop is None or not stop.is_set():
        fail_stale_trials(study)
        tally = Tally.of(study)
        if not tally.has_work(n_trials) or _grid_exhausted(study):
            if not tally.states["RUNNING"]:
                return
            time.sleep(IDLE_POLL_SECONDS)  # another worker's trial may die and be re-queued
            continue
        study.optimize(objective, n_trials=1, catch=(TrialFailed, SurplusTrial))
        if not warm:  # the first trial imported and cached what the next ones reuse
            settle_collection()
            warm = True
        after_trial(study)
        if _grid_exhausted(study):
            return


def _grid_exhausted(study: Any) -> bool:
    """Whether a grid search has run every point of its grid (then it ends below n_trials)."""
    from optuna.samplers import GridSampler

    return isinstance(study.sampler, GridSampler) and study.sampler.is_exhausted(study)


def run_pool(
    settings: dict[str, Any],
    sweep_dir: Path,
    study: Any,
    worker: Callable[[int], None],
    show: Callable[[Any], None],
) -> None:
    """Fork n_workers workers (`worker(index)`), show progress until they end, restart crashes."""
    n_workers, n_trials = int(settings["n_workers"]), int(settings["n_trials"])
    per_trial = int(settings.get("gpus_per_trial") or 0)
    devices = assign_devices(visible_gpus() if per_trial else [], n_workers, per_trial)
    threads = threads_per_worker(n_workers)
    (sweep_dir / "workers").mkdir(exist_ok=True)
    import trainrig.training.runner  # noqa: F401  (imported once here, every fork starts warm)

    def start(i: int) -> Any:
        log_file = sweep_dir / "workers" / f"worker_{i}.log"
        return start_worker(lambda: worker(i), threads, devices[i], log_file)

    workers = {i: start(i) for i in range(n_workers)}
    restarts = 0
    try:
        while workers:
            wait_for_exit(list(workers.values()), POLL_SECONDS)
            fail_stale_trials(study)
            show(study)
            for i, process in list(workers.items()):
                if process.exitcode is None:
                    continue
                del workers[i]
                code = process.exitcode
                if code and Tally.of(study).has_work(n_trials) and restarts < 3 * n_workers:
                    log.warning("worker %d exited with %d (see workers/worker_%d.log)", i, code, i)
                    workers[i] = start(i)
                    restarts += 1
    finally:
        for process in workers.values():
            process.kill()
    if Tally.of(study).has_work(n_trials):
        raise ConfigError(
            f"the sweep's workers stopped before {n_trials} trials; see {sweep_dir}/workers/"
        )


def _check_counts(settings: dict[str, Any]) -> None:
    """The sweep's counts are whole and positive, so a sweep always runs something."""
    for key in ("n_trials", "n_workers", "n_jobs", "max_retries"):
        value = settings.get(key)
        least = 0 if key == "max_retries" else 1
        if value is not None and int(value) < least:
            raise ConfigError(f"hydra.sweeper.{key}: must be >= {least}, got {value}")


def _space(settings: dict[str, Any], arguments: list[str]) -> SearchSpace:
    """`params` and the command line's overrides, after the deprecated `search_space` key."""
    space = search_space(dict(settings.get("params") or {}), arguments)
    legacy = settings.get("search_space")
    if legacy:
        log.warning(
            "hydra.sweeper.search_space is deprecated (hydra-optuna-sweeper 1.1): write "
            "hydra.sweeper.params, e.g. x: interval(-5.5, 5.5)"
        )
        for name, distribution in legacy_search_space(legacy).items():
            space.distributions.setdefault(name, distribution)
            if hasattr(distribution, "choices"):
                space.grid.setdefault(name, list(distribution.choices))
    return space


def run_study(
    settings: dict[str, Any],
    config: DictConfig,
    launcher: Any,
    arguments: list[str],
    own_app: bool = True,
) -> None:
    """Run trials until the study holds `n_trials` finished ones; write the sweep's outputs.

    `own_app`: the task is trainrig's (its allow-list, objectives and pruning apply); otherwise
    another Hydra app's, whose sweeper settings are its own code, as with hydra-optuna-sweeper.
    """
    _check_counts(settings)
    sweep_dir = Path(config.hydra.sweep.dir)
    sweep_dir.mkdir(parents=True, exist_ok=True)
    redact_logs()
    write_atomic(sweep_dir / "multirun.yaml", OmegaConf.to_yaml(config))  # passwords redacted
    judged = config  # with trainrig's metric choices settled: what the study optimizes
    if own_app:
        check_sweeper_targets(settings, config.get(OPT_IN) is True)
        judged = settled(config)
        metrics, directions = trainrig_objectives(settings.get("direction"), judged)
    else:
        metrics, directions = app_objectives(settings.get("direction"))
    space = _space(settings, arguments)
    pruner = _pruner(settings, judged, directions, own_app)
    n_trials = int(settings.get("n_trials", 20))
    max_failure_rate = float(settings.get("max_failure_rate", 0.5))
    extend = settings.get("custom_search_space")
    cwd = Path(OmegaConf.select(config, "hydra.runtime.cwd") or ".")
    warm_start = enqueued_configs(settings.get("enqueue"), space, cwd, n_trials, bool(extend))
    constraints = parse_constraints(settings.get("constraints"))
    check_constraints(constraints, own_app, settings.get("sampler"), judged)

    def study_for(worker: int) -> Any:
        """The study as worker `worker` sees it: its own connection, its own sampler seed."""
        sampler = _sampler(settings.get("sampler"), space, seed_offset=worker)
        built_pruner = instantiate(pruner) if pruner else None
        return open_study(settings, sweep_dir, sampler, built_pruner, metrics, directions)

    shown: list[str] = []

    def show(study: Any) -> None:
        line = progress_line(study, n_trials, metrics)
        if not shown or line != shown[-1]:
            console.print(line)
            shown.append(line)
        _check_failure_rate(study, max_failure_rate)

    elsewhere = None if runs_in_process(launcher) else InFlight(launcher, in_flight_slots(settings))
    storage = storage_url(settings, sweep_dir)
    objective = make_objective(
        space,
        elsewhere or launcher,
        n_trials,
        storage,
        pruner,
        get_method(extend) if extend else None,
        config,
        own_app,
        constraints,
    )

    def worker(index: int) -> None:
        check = functools.partial(_check_failure_rate, max_failure_rate=max_failure_rate)
        work(study_for(index + 1), objective, n_trials, check)

    study = study_for(0)
    check_study_constraints(study, constraints)
    enqueue(study, warm_start, n_trials)
    if own_app:  # the trials' heavy imports (torch, Lightning), while the collector is paused
        import trainrig.sweeps.pruning
        import trainrig.training.runner  # noqa: F401
    resume_collection()  # Lightning and Optuna are imported; trials (and forked workers) next
    if elsewhere is not None:
        _run_elsewhere(elsewhere, study, study_for, objective, n_trials, show, storage, own_app)
    elif int(settings.get("n_workers", 1)) > 1:
        run_pool(settings, sweep_dir, study, worker, show)
    else:
        work(study, objective, n_trials, show)
    write_outputs(study, sweep_dir, None if own_app else _app_groups(config))
    console.print(best_trials_table(study, metrics))
    _write_plots(study, sweep_dir / "plots")


def _run_elsewhere(
    elsewhere: InFlight,
    study: Any,
    study_for: Callable[[int], Any],
    objective: Any,
    n_trials: int,
    show: Callable[[Any], None],
    storage: str,
    own_app: bool,
) -> None:
    """Keep `elsewhere.slots` trials in flight on the launcher, each slot its own study
    connection and sampler seed; the jobs find the storage in the environment (pruning)."""

    def slot_work(index: int, stop: threading.Event) -> None:
        work(study_for(index + 1), objective, n_trials, lambda _: None, stop)

    environment: Any = contextlib.nullcontext()  # another app's jobs report no epochs
    if own_app:
        from trainrig.sweeps.pruning import storage_in_environment

        environment = storage_in_environment(storage)
    with environment:
        elsewhere.run(study, slot_work, show, POLL_SECONDS)


def _app_groups(config: DictConfig) -> list[str]:
    """Another app's config groups (its defaults' choices, Hydra's own left out)."""
    choices = OmegaConf.select(config, "hydra.runtime.choices") or {}
    return [str(g) for g in choices if not str(g).startswith("hydra/")]


def _write_plots(study: Any, plots_dir: Path) -> None:
    """The sweep's plots; a plot that fails is reported, the finished sweep stands."""
    try:
        written = write_plots(study, plots_dir)
    except Exception as error:
        log.warning("could not draw the sweep's plots: %s: %s", type(error).__name__, error)
        return
    if written:
        console.print(f"plots: {plots_dir} ({len(written)} files)")
