"""Build each part of a run from its config node; runtime-only arguments are filled in here."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from pytorch_lightning.callbacks import Callback
from pytorch_lightning.loggers import Logger
from pytorch_lightning.profilers import Profiler

from trainrig.augmentation.batch_augmentation import BatchAugmentation
from trainrig.config.errors import ConfigError
from trainrig.config.signature import builder_for
from trainrig.data.folds import use_fold
from trainrig.data.targets import accepts_targets
from trainrig.distributed.checks import check_sharding_plan
from trainrig.models.fit_check import check_model_fits
from trainrig.rundir.checkpoint_io import SafeCheckpointIO
from trainrig.tasks.metrics import build_metrics
from trainrig.tasks.options import Classification, LightningModuleTask, SupervisedTask, Task
from trainrig.tasks.output_scale import Destandardize
from trainrig.training.data_info import DataInfo, data_info, loader_target_stats
from trainrig.training.loggers.from_config import build_loggers as loggers_from_config
from trainrig.training.optimizers import OptimizerFactory, optimizer_factory
from trainrig.training.run_callbacks import display_flags
from trainrig.training.supervised import SupervisedModule
from trainrig.training.user_module import user_module

IMAGE_DIMS = 3  # channels, height, width
PROFILER_DIR = "profiler"  # <run>/profiler/fit-profile.txt, for trainer.profiler=simple etc.


def _option_name(node: DictConfig) -> str:
    """A short name for error messages: the builder's module (cnn, mlp, ...) or its target."""
    target = str(node.get("_target_", "?"))
    if target.startswith("trainrig.models."):
        return target.split(".")[-2].removesuffix("_models")
    return target


def _enabled(node: Any) -> bool:
    """An empty group node (`scheduler=none`) switches that part off."""
    return node is not None and len(node) > 0


def build_task(cfg: DictConfig) -> Task:
    """The run's task (`cfg.task`); classification for a config from before tasks existed."""
    node = cfg.get("task")
    return instantiate(node) if node else Classification()


def build_data(cfg: DictConfig, task: Task | None = None) -> Any:
    """The data module of `cfg.data`, given the task's targets where its builder takes them,
    cut to the fold `repeat.fold` names and told how to split its batches across processes."""
    task = task or build_task(cfg)
    builder = builder_for(str(cfg.data.get("_target_")))
    if builder is not None and accepts_targets(builder) and isinstance(task, SupervisedTask):
        data = instantiate(cfg.data, task.targets)
    else:
        data = instantiate(cfg.data)
    repeat = cfg.get("repeat") or {}
    if repeat.get("fold") is not None:  # one fold of a k-fold run (training/repeats.py)
        use_fold(data, repeat["folds"], repeat["fold"], cfg.seed)
    if getattr(data, "shards_itself", False):
        data.batch_size_scope = cfg.get("batch_size_scope", "per_device")
        data.shuffle_seed = cfg.seed
    return data


def build_module(cfg: DictConfig, data: Any, task: Task | None = None) -> pl.LightningModule:
    """The LightningModule that trains: a built-in task's around `cfg.model`, or the user's own."""
    task = task or build_task(cfg)
    if isinstance(task, LightningModuleTask):
        return user_module(cfg, build_optimizer_factory(cfg.optimizer))
    return build_supervised(cfg, data, task)


def build_supervised(cfg: DictConfig, data: Any, task: SupervisedTask) -> SupervisedModule:
    """The model of `cfg.model`, sized by the data, with the task's loss and metrics, optimizer,
    schedule, augmentation and normalization."""
    info = data_info(data, task)
    model = instantiate(cfg.model)(info.input_shape, info.num_outputs)
    check_model_fits(model, info.input_shape, info.num_outputs, _option_name(cfg.model))
    check_sharding_plan(cfg, model)
    metrics = cfg.get("metrics")
    metrics = OmegaConf.to_container(metrics) if OmegaConf.is_config(metrics) else metrics
    build_metrics(task, metrics, info.num_outputs)  # refuses bad arguments before training
    if hasattr(data, "target_stats"):
        stats = data.target_stats()
    elif info.targets == "values":
        stats = loader_target_stats(data)
    else:
        stats = None
    return SupervisedModule(
        model=model,
        task=task,
        make_metrics=functools.partial(build_metrics, task, metrics, info.num_outputs),
        optimizer=build_optimizer_factory(cfg.optimizer),
        scheduler=instantiate(cfg.scheduler) if _enabled(cfg.scheduler) else None,
        augmentation=build_augmentation(cfg, data, info),
        normalization=data.normalization() if hasattr(data, "normalization") else None,
        rescale=getattr(data, "rescale", 1.0),
        lr_scaling=cfg.get("lr_scaling", "none"),
        output_scale=Destandardize(*stats) if stats is not None else None,
    )


def build_augmentation(cfg: DictConfig, data: Any, info: DataInfo) -> BatchAugmentation | None:
    """The training-batch augmentation of `cfg.augmentation`, sized by the data; None when off."""
    if not _enabled(cfg.augmentation):
        return None
    if len(info.input_shape) != IMAGE_DIMS or info.targets != "classes":
        raise ConfigError(
            f"augmentation: the data gives samples of shape {info.input_shape} with "
            f"{info.targets} as targets, not images with class labels; image augmentation "
            "does not apply: use augmentation=none"
        )
    augmentation: BatchAugmentation = instantiate(cfg.augmentation)(
        info.input_shape, info.num_outputs
    )
    if hasattr(data, "train_transform"):
        data.train_transform = augmentation.per_sample  # the CPU path, when chosen
    return augmentation


def build_optimizer_factory(node: DictConfig) -> OptimizerFactory:
    """model -> optimizer from `cfg.optimizer`: trainrig's builders take the model themselves; a
    partial optimizer class (`torch.optim.Adam`) gets the model's parameter groups."""
    if builder_for(str(node.get("_target_"))) is not None:
        return instantiate(node)  # type: ignore[no-any-return]
    options = {k: v for k, v in node.items() if k != "exempt_bias_and_norm"}
    return optimizer_factory(
        instantiate(options),
        weight_decay=node.get("weight_decay", 0.0),
        exempt_bias_and_norm=node.get("exempt_bias_and_norm", False),
    )


def build_loggers(cfg: DictConfig, run_dir: Path) -> list[Logger]:
    """Every logger under `cfg.logger`, writing inside the run directory."""
    return loggers_from_config(cfg.get("logger") or {}, str(run_dir))


def build_trainer(
    cfg: DictConfig, run_dir: Path, callbacks: list[Callback], data: Any = None
) -> pl.Trainer:
    """The Lightning Trainer of `cfg.trainer` with the run's callbacks, loggers and strategy.

    trainrig's data modules split batches across processes themselves (`shards_itself`), so
    Lightning's distributed sampler is used only for a user's own data module.
    """
    strategy = instantiate(cfg.strategy) if _enabled(cfg.get("strategy")) else "auto"
    return instantiate(  # type: ignore[no-any-return]
        cfg.trainer,
        **profiler_in(cfg.trainer, run_dir),
        **display_flags(callbacks),
        callbacks=callbacks,
        logger=build_loggers(cfg, run_dir),
        strategy=strategy,
        use_distributed_sampler=not getattr(data, "shards_itself", False),
        plugins=[SafeCheckpointIO()],  # atomic saves, weights-only loads
        default_root_dir=str(run_dir),
    )


def profiler_in(trainer: DictConfig, run_dir: Path) -> dict[str, Profiler]:
    """`trainer.profiler` given by name (simple, advanced, pytorch, xla) as that profiler writing
    its report into `<run>/profiler/` (Lightning's by name only print it); {} otherwise."""
    name = trainer.get("profiler")
    if not isinstance(name, str):
        return {}
    from pytorch_lightning import profilers

    kinds: dict[str, type[Profiler]] = {
        "simple": profilers.SimpleProfiler,
        "advanced": profilers.AdvancedProfiler,
        "pytorch": profilers.PyTorchProfiler,
        "xla": profilers.XLAProfiler,
    }
    return {"profiler": kinds[name](dirpath=run_dir / PROFILER_DIR, filename="profile")}
