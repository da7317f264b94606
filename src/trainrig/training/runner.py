"""The run, a step per line: seed, data, model, callbacks, trainer, fit, test the best, results."""

from __future__ import annotations

import functools
import time
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from pytorch_lightning.utilities.model_helpers import is_overridden

from trainrig.config.errors import ConfigError
from trainrig.data.stats_cache import cache_normalization
from trainrig.distributed.checks import check_devices
from trainrig.rundir.checkpoint_io import SafeCheckpointIO
from trainrig.rundir.checkpoints import load_config_from_checkpoint, load_fitting_weights
from trainrig.rundir.results import write_config, write_metrics
from trainrig.rundir.resume import LAST_CHECKPOINT, checkpoint_to_resume, finished_metrics
from trainrig.tasks.names_check import monitors
from trainrig.tasks.options import LightningModuleTask
from trainrig.training.build import (
    build_data,
    build_loggers,
    build_module,
    build_task,
    build_trainer,
    profiler_in,
)
from trainrig.training.callbacks.checkpoints import BEST_CHECKPOINT
from trainrig.training.callbacks.config_in_checkpoint import (
    loaded_checkpoint_epoch,
    stored_validation_metrics,
)
from trainrig.training.callbacks.finite_loss import StopOnNonFiniteLoss
from trainrig.training.callbacks.group import callbacks_of
from trainrig.training.callbacks.interruption import StopOnSignal
from trainrig.training.callbacks.monitored_metrics import MonitoredMetricsCheck
from trainrig.training.callbacks.schedule_length import ScheduleFollowsRunLength
from trainrig.training.finetune import finetune
from trainrig.training.hooks import AfterFit, CompressionMethod, CompressionRun
from trainrig.training.init_from import initialize
from trainrig.training.known_noise import silence_known_noise
from trainrig.training.loggers.held_metrics import ReleaseCoveredMetrics
from trainrig.training.loggers.resumed_records import KeepRecordsOfResumedSteps
from trainrig.training.loggers.wandb_logger import finish_wandb_runs
from trainrig.training.metric_names import MODEL_SIZE, compression_metrics
from trainrig.training.run_callbacks import (
    CHECKPOINT_DIR,
    build_callbacks,
    chosen_callbacks,
    display_callbacks,
    display_flags,
)
from trainrig.training.summary import print_summary, stop_reason

if TYPE_CHECKING:
    import pytorch_lightning as pl
    import torch


def train(cfg: DictConfig, run_dir: Path) -> dict[str, float]:
    """Train `cfg` in `run_dir`, test its best checkpoint and return the final metrics."""
    import pytorch_lightning as pl
    from pytorch_lightning.utilities import rank_zero_only

    started = time.monotonic()
    if (finished := finished_metrics(cfg, run_dir)) is not None:
        print(f"{run_dir} finished already (resume=auto); its metrics.json stands")
        return finished
    check_devices(cfg)  # before anything is written or loaded
    resume_from = checkpoint_to_resume(cfg, run_dir)
    silence_known_noise()
    pl.seed_everything(cfg.seed, workers=True, verbose=False)
    main_rank = getattr(rank_zero_only, "rank", 0) == 0  # other DDP ranks read, rank 0 writes
    if main_rank:
        write_config(run_dir, cfg)
    chosen = chosen_callbacks(cfg, run_dir)  # refuses a node that is no Callback, before data
    task = build_task(cfg)
    data = build_data(cfg, task)
    if hasattr(data, "normalization_stats"):  # trainrig's data modules; a user's normalizes itself
        cache_normalization(data, run_dir)  # rank 0 wrote it before starting the others
    classifier = build_module(cfg, data, task)
    initialized = initialize(classifier, cfg.get("init_from"), load=resume_from is None)
    if initialized is not None and main_rank:
        print("\n".join(initialized.lines()))
    method, run = _compression(cfg, run_dir, "train")
    if method is not None:
        method.prepare(classifier, data, run)  # refuses a misfit, attaches a teacher
    extra = method.callbacks(run) if method is not None else []
    always: list[pl.Callback] = []  # small ones, dispatched as one group (build_callbacks)
    if isinstance(task, LightningModuleTask):
        always.append(MonitoredMetricsCheck(_checked_at_validation(cfg)))
    if resume_from is not None:  # a lengthened run's schedule follows its new length
        always.append(ScheduleFollowsRunLength())
    if cfg.get("on_nonfinite_loss", "stop") == "stop":
        always.append(StopOnNonFiniteLoss())
    if cfg.get("logger"):  # each step logged once; a run without loggers needs no hooks
        always.append(KeepRecordsOfResumedSteps())
        extra.append(ReleaseCoveredMetrics())  # a Checkpoint: called after those that save
    stop = StopOnSignal(run_dir / LAST_CHECKPOINT, _how_to_go_on(run_dir))
    always.append(stop)  # its on_exception saves last.ckpt before ReleaseCoveredMetrics's
    callbacks = build_callbacks(cfg, run_dir, chosen, extra, always)
    trainer = build_trainer(cfg, run_dir, callbacks, data)
    with stop.handled():  # SIGTERM, SIGINT: last.ckpt saved, exit 128 + the signal's number
        trainer.fit(classifier, datamodule=data, ckpt_path=resume_from)
        for callback in callbacks_of(trainer.callbacks, pl.Callback):  # type: ignore[attr-defined]
            if isinstance(callback, AfterFit):  # a pruned Optuna trial ends here, untested
                callback.after_fit(trainer)
        reason = stop_reason(trainer)
        best = best_checkpoint(trainer)  # None: test the weights fitting ended with
        test: Mapping[str, float] = {}
        if is_overridden("test_step", classifier):  # a user's module may have none: not tested
            test = trainer.test(classifier, datamodule=data, ckpt_path=best, verbose=False)[0]
        # the best epoch's validation metrics as its checkpoint stored them, not validated again
        stored = stored_validation_metrics(trainer) if best is not None else None
        val = (
            stored
            or trainer.validate(classifier, datamodule=data, ckpt_path=best, verbose=False)[0]
        )
    metrics = {**val, **test, MODEL_SIZE: float(_parameter_count(classifier))}
    if main_rank:
        if method is not None:  # its figures join the metrics, for sweeps to optimize
            metrics |= compression_metrics(method.compress(classifier, data, run))
        write_metrics(run_dir, metrics)
        reason = replace(reason, best_epoch=loaded_checkpoint_epoch(trainer))  # test loaded it
        weights = "the best checkpoint" if best is not None else "the weights fitting ended with"
        print_summary(metrics, run_dir, time.monotonic() - started, reason, weights)
    finish_wandb_runs(trainer.loggers)
    return metrics


def best_checkpoint(trainer: pl.Trainer) -> str | None:
    """The path of checkpoints/best.ckpt when fitting saved one; else None, said on screen: no
    `callbacks.model_checkpoint`, `save_top_k: 0`, or `trainer.fast_dev_run` (which saves none)."""
    from pytorch_lightning.callbacks import ModelCheckpoint

    for callback in trainer.checkpoint_callbacks:
        if not isinstance(callback, ModelCheckpoint) or callback.filename != BEST_CHECKPOINT:
            continue
        if callback.best_model_path:
            return str(callback.best_model_path)
    if trainer.is_global_zero:
        fast = getattr(trainer, "fast_dev_run", False)  # set by Lightning's setup, not typed
        why = "trainer.fast_dev_run saves none" if fast else "none was saved"
        print(f"No best checkpoint ({why}): testing the weights fitting ended with")
    return None


def _how_to_go_on(run_dir: Path) -> str:
    """What continues an interrupted run: the sweep's own command in a sweep, else resume."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    if HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN:
        return "the same sweep command runs this trial again and goes on"
    return f"trainrig resume {run_dir} continues from {LAST_CHECKPOINT}"


def _compression(
    cfg: DictConfig, run_dir: Path, task: Literal["train", "compress"]
) -> tuple[CompressionMethod | None, CompressionRun]:
    """`cfg.compression`, instantiated once for the run (None when off), and what it may use."""
    settings = (
        OmegaConf.to_container(cfg.compression, resolve=True) if cfg.get("compression") else {}
    )
    assert isinstance(settings, dict)
    run = CompressionRun(
        run_dir=run_dir,
        checkpoint_dir=run_dir / CHECKPOINT_DIR,
        seed=cfg.seed,
        settings=settings,  # type: ignore[arg-type]
        finetune=functools.partial(finetune, cfg),
        task=task,
        config=_plain(cfg),
    )
    return (instantiate(cfg.compression) if settings else None), run


def rebuilt_from_checkpoint(
    cfg: DictConfig, run_dir: Path
) -> tuple[DictConfig, Any, pl.LightningModule]:
    """The training config stored in `cfg.ckpt_path`, its data and its (untrained) classifier."""
    import pytorch_lightning as pl

    silence_known_noise()
    trained = load_config_from_checkpoint(Path(cfg.ckpt_path))
    pl.seed_everything(trained.seed, workers=True, verbose=False)
    write_config(run_dir, cfg)
    data = build_data(trained)
    classifier = build_module(trained, data)
    load_fitting_weights(classifier, Path(cfg.ckpt_path))
    return trained, data, classifier


def compress_checkpoint(cfg: DictConfig, run_dir: Path) -> dict[str, Any]:
    """Compress the model of the checkpoint at `cfg.ckpt_path` as `cfg.compression` says."""
    trained, data, classifier = rebuilt_from_checkpoint(cfg, run_dir)
    data.setup("test")
    (run_dir / CHECKPOINT_DIR).mkdir(parents=True, exist_ok=True)
    settings = OmegaConf.merge(trained, {"trainer": cfg.trainer, "compression": cfg.compression})
    assert isinstance(settings, DictConfig)
    method, run = _compression(settings, run_dir, "compress")
    if method is None:
        raise ConfigError(
            "compression=none: `trainrig compress` needs a compression option, e.g. "
            "compression=prune_global (`trainrig list compression` shows them)"
        )
    method.prepare(classifier, data, run)  # refuses a misfit
    return method.compress(classifier, data, run)


def _parameter_count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def evaluate(cfg: DictConfig, run_dir: Path) -> dict[str, float]:
    """Test the checkpoint at `cfg.ckpt_path` on the test split of the data it was trained on."""
    import pytorch_lightning as pl

    started = time.monotonic()
    _, data, classifier = rebuilt_from_checkpoint(cfg, run_dir)
    shown = display_callbacks(cfg)
    trainer = pl.Trainer(
        **{k: v for k, v in cfg.trainer.items() if k != "_target_"}
        | profiler_in(cfg.trainer, run_dir)
        | display_flags(shown),
        logger=build_loggers(cfg, run_dir),
        callbacks=shown,
        plugins=[SafeCheckpointIO()],  # weights-only loads
        default_root_dir=str(run_dir),
    )
    metrics = dict(
        trainer.test(classifier, datamodule=data, ckpt_path=cfg.ckpt_path, verbose=False)[0]
    )
    write_metrics(run_dir, metrics)
    elapsed = time.monotonic() - started
    print_summary(metrics, run_dir, elapsed, f"tested {cfg.ckpt_path}", "the checkpoint")
    return metrics


def _checked_at_validation(cfg: DictConfig) -> dict[str, str]:
    """Config key -> metric, for every name a user's module must log by its first validation:
    the monitors, and the optimized metrics that are validation or training figures."""
    values = _plain(cfg)
    names = dict(monitors(values))
    wanted = values.get("optimized_metric")
    for index, name in enumerate([wanted] if isinstance(wanted, str) else list(wanted or [])):
        key = "optimized_metric" if isinstance(wanted, str) else f"optimized_metric[{index}]"
        if str(name).startswith(("val/", "train/")):
            names[key] = str(name)
    return names


def _plain(cfg: DictConfig) -> dict[str, Any]:
    values = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(values, dict)
    return values  # type: ignore[return-value]
