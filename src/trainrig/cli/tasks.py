"""The Hydra task functions behind `trainrig train` and `trainrig eval`.

They validate first and import the heavy runner only after the config is known to be good.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, NoReturn

from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from trainrig.cli.startup_gc import resume_collection
from trainrig.config.errors import (
    EXIT_RUNTIME_ERROR,
    ConfigError,
    RunError,
    config_error_in,
    exit_with,
    one_line_errors,
)
from trainrig.config.target_allowlist import OPT_IN, check_targets_resolve
from trainrig.config.validate import validate
from trainrig.distributed.spawn import ddp_ranks_rerun_this_job
from trainrig.rundir.io_errors import io_error_message
from trainrig.rundir.redaction import redact_files, redact_logs


def _run_dir() -> Path:
    return Path(HydraConfig.get().runtime.output_dir)


# What a run directory holds before any training happened: nothing worth keeping.
NOTHING_YET = {
    ".hydra",
    "train.log",
    "eval.log",
    "lr_find.log",
    "compress.log",
    "predict.log",
    "config.yaml",
    "normalization.json",
}

# The log of a rank N > 0 that torchrun or srun started (`hydra.job.name` ends `_rank_N`).
RANK_LOG = re.compile(r"\w+_rank_\d+\.log")


def _nothing_yet(name: str) -> bool:
    return name in NOTHING_YET or RANK_LOG.fullmatch(name) is not None


def _reject(error: ConfigError) -> NoReturn:
    """Report a bad config of a single run and remove the run directory Hydra made for it.

    In a multirun the error is raised instead, so the sweep records that job as failed.
    """
    if HydraConfig.get().mode != RunMode.RUN or not one_line_errors():
        raise error
    remove_run_dir_made_for_nothing()  # another rank may have removed it first
    exit_with(str(error))


def remove_run_dir_made_for_nothing() -> None:
    """Remove the run directory Hydra made for this job if it holds nothing worth keeping yet
    (no job set up: nothing to do)."""
    try:
        run_dir = _run_dir()
    except ValueError:  # HydraConfig not set: no job, no directory
        return
    with suppress(FileNotFoundError):
        if run_dir.is_dir() and all(_nothing_yet(p.name) for p in run_dir.iterdir()):
            shutil.rmtree(run_dir, ignore_errors=True)
            _remove_empty_parents(run_dir.parent, Path.cwd())


def stopped_by_torchrun(signum: int, frame: object) -> None:
    """torchrun stops the other ranks (SIGTERM) when one exits, e.g. rejecting the config: a rank
    stopped before its config was validated removes the run directory it made, as the rejecting
    rank does (`_validated` then gives SIGTERM back to its default)."""
    remove_run_dir_made_for_nothing()
    os._exit(128 + signum)


def _remove_empty_parents(folder: Path, stop: Path) -> None:
    """Remove `folder` and the folders above it while empty, up to (not including) `stop`; such
    as the `outputs/train/runs` Hydra made for the rejected run alone."""
    folder, stop = folder.resolve(), stop.resolve()
    while folder != stop and stop in folder.parents and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent


@contextmanager
def _config_errors_reported() -> Iterator[None]:
    """Bad input found while validating or building (before training), or a run that cannot go
    on (RunError), ends the run cleanly."""
    try:
        yield
    except Exception as error:
        found = config_error_in(error)  # also inside Hydra's InstantiationException
        if found is not None:
            _reject(found)
        # a run that cannot go on, a file it cannot write: one line, without Hydra's "Error
        # executing job" before it; a sweep records the trial FAIL with the error instead
        failed = str(error) if isinstance(error, RunError) else io_error_message(error)
        if failed is None or HydraConfig.get().mode != RunMode.RUN or not one_line_errors():
            raise
        exit_with(failed, EXIT_RUNTIME_ERROR)


def _validated(cfg: DictConfig, task: str) -> dict[str, Any]:
    """The config checked (schemas, then `_target_`s imported and checked) and resolved; the
    passwords in Hydra's saved configs and in the log output redacted."""
    redact_logs()
    saved = HydraConfig.get().output_subdir  # `.hydra`, or None when Hydra saves nothing
    if saved is not None:
        redact_files(_run_dir() / saved)
    values = validate(cfg, task)
    check_targets_resolve(values, values.get(OPT_IN) is True)
    resume_collection()  # the targets' modules are imported; the run's objects come next
    if signal.getsignal(signal.SIGTERM) is stopped_by_torchrun:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a stopped rank's results now stay
    return values


def _checkpoint_to_read(values: dict[str, Any]) -> str:
    """`ckpt_path` once it is known to exist, hold plain data and name allowed targets only."""
    path = Path(values["ckpt_path"])
    if not path.is_file():
        raise ConfigError(
            f"ckpt_path: no checkpoint file at {path}; pass the .ckpt a training run wrote, "
            "e.g. ckpt_path=outputs/train/runs/<run>/checkpoints/best.ckpt"
        )
    from trainrig.rundir.checkpoints import vetted_checkpoint

    trust, allow_any = values.get("trust_checkpoint") is True, values.get(OPT_IN) is True
    return str(vetted_checkpoint(path, trust, allow_any, _run_dir()))


def train_task(cfg: DictConfig) -> float | list[float]:
    """Validate, train, test; return the `optimized_metric` (one, or a list) for Hydra sweepers;
    of a repeated run (`repeat.seeds`, `repeat.folds`), its mean over the repetitions."""
    with _config_errors_reported():
        values = _validated(cfg, "train")
        from trainrig.training.repeats import is_repeated, train_repeated
        from trainrig.training.runner import train

        with ddp_ranks_rerun_this_job("train"):
            if is_repeated(values):  # each repetition resolved anew: `${seed}` follows its seed
                metrics = train_repeated(cfg, _run_dir())
            else:
                metrics = train(OmegaConf.create(values), _run_dir())
        wanted = values["optimized_metric"]
        names = [wanted] if isinstance(wanted, str) else list(wanted)
        if missing := [name for name in names if name not in metrics]:
            raise ConfigError(  # a user's module: its test names are known only now
                f"optimized_metric: {missing[0]} is not among the run's metrics "
                f"({', '.join(sorted(metrics))}); its results stand in {_run_dir()}: choose "
                "one of those"
            )
    return metrics[wanted] if isinstance(wanted, str) else [metrics[name] for name in names]


def lr_find_task(cfg: DictConfig) -> float | None:
    """Validate, then run the learning-rate range test; return the suggested learning rate."""
    with _config_errors_reported():
        values = _validated(cfg, "lr_find")
        from trainrig.training.lr_finder import find_lr

        return find_lr(OmegaConf.create(values), _run_dir())


def compress_task(cfg: DictConfig) -> float:
    """Validate, then compress the checkpoint at `ckpt_path`; return the compressed test/acc."""
    with _config_errors_reported():
        values = _validated(cfg, "compress")
        values["ckpt_path"] = _checkpoint_to_read(values)
        from trainrig.training.runner import compress_checkpoint

        report = compress_checkpoint(OmegaConf.create(values), _run_dir())
    return _test_figure(report["after"])


def eval_task(cfg: DictConfig) -> float:
    """Validate, then test the checkpoint at `ckpt_path`; return its test accuracy."""
    with _config_errors_reported():
        values = _validated(cfg, "eval")
        values["ckpt_path"] = _checkpoint_to_read(values)
        from trainrig.training.runner import evaluate

        metrics = evaluate(OmegaConf.create(values), _run_dir())
    return _test_figure(metrics)


def predict_task(cfg: DictConfig) -> int:
    """Validate, then write the predictions of the checkpoint at `ckpt_path`; return the rows."""
    with _config_errors_reported():
        values = _validated(cfg, "predict")
        values["ckpt_path"] = _checkpoint_to_read(values)
        from trainrig.training.predict import predict

        return predict(OmegaConf.create(values), _run_dir())


def _test_figure(metrics: dict[str, Any]) -> float:
    """What eval and compress return to a sweeper: test/acc, else the first other test metric
    (a regression's test/mse, a user's module's own), else the test loss."""
    tests = [k for k in metrics if k.startswith("test/") and k != "test/loss"]
    name = "test/acc" if "test/acc" in metrics else (tests[0] if tests else "test/loss")
    return float(metrics[name])
