"""Build each part of a run from its config node; runtime-only arguments are filled in here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytorch_lightning as pl
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from pytorch_lightning.callbacks import (
    Callback,
    LearningRateMonitor,
    ModelCheckpoint,
    RichModelSummary,
)
from pytorch_lightning.loggers import Logger

from trainrig.augmentation.batched import BatchAugmentation
from trainrig.config.errors import ConfigError
from trainrig.config.signature import builder_for
from trainrig.data.modules import ClassificationData
from trainrig.distributed.checks import check_sharding_plan
from trainrig.models.fit_check import check_model_fits
from trainrig.rundir.checkpoint_io import SafeCheckpointIO
from trainrig.training.callbacks.config_in_checkpoint import ConfigInCheckpoint
from trainrig.training.callbacks.log_hyperparameters import LogHyperparameters
from trainrig.training.callbacks.progress_bar import ProgressBar
from trainrig.training.callbacks.random_state import RandomStateInCheckpoint
from trainrig.training.classifier import Classifier
from trainrig.training.optimizers import OptimizerFactory, optimizer_factory

IMAGE_DIMS = 3  # channels, height, width
CHECKPOINT_DIR = "checkpoints"
BEST_CHECKPOINT = "best"


def _option_name(node: DictConfig) -> str:
    """A short name for error messages: the builder's module (cnn, mlp, ...) or its target."""
    target = str(node.get("_target_", "?"))
    if target.startswith("trainrig.models."):
        return target.split(".")[-2].removesuffix("_models")
    return target


def _enabled(node: Any) -> bool:
    """An empty group node (`scheduler=none`) switches that part off."""
    return node is not None and len(node) > 0


def build_data(cfg: DictConfig) -> ClassificationData:
    """The data module of `cfg.data`, told how to split its batches across processes."""
    data: ClassificationData = instantiate(cfg.data)
    data.batch_size_scope = cfg.get("batch_size_scope", "per_device")
    data.shuffle_seed = cfg.seed
    return data


def build_classifier(cfg: DictConfig, data: ClassificationData) -> Classifier:
    """The model of `cfg.model`, sized by the data, with optimizer, schedule and augmentation."""
    model = instantiate(cfg.model)(data.input_shape, data.num_classes)
    check_model_fits(model, data.input_shape, data.num_classes, _option_name(cfg.model))
    check_sharding_plan(cfg, model)
    return Classifier(
        model=model,
        num_classes=data.num_classes,
        optimizer=build_optimizer_factory(cfg.optimizer),
        scheduler=instantiate(cfg.scheduler) if _enabled(cfg.scheduler) else None,
        augmentation=build_augmentation(cfg, data),
        normalization=data.normalization(),
        rescale=data.rescale,
        lr_scaling=cfg.get("lr_scaling", "none"),
    )


def build_augmentation(cfg: DictConfig, data: ClassificationData) -> BatchAugmentation | None:
    """The training-batch augmentation of `cfg.augmentation`, sized by the data; None when off."""
    if not _enabled(cfg.augmentation):
        return None
    if len(data.input_shape) != IMAGE_DIMS:
        raise ConfigError(
            f"augmentation: the data gives samples of shape {data.input_shape}, not images; "
            "image augmentation does not apply: use augmentation=none"
        )
    augmentation: BatchAugmentation = instantiate(cfg.augmentation)(
        input_shape=data.input_shape, num_classes=data.num_classes
    )
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


def build_callbacks(
    cfg: DictConfig, run_dir: Path, compression: list[Callback] | None = None
) -> list[Callback]:
    """Checkpointing (best and last), early stopping, the compression method's `compression`
    callbacks (weight pruning), the config's `callbacks` (a sweep trial's pruning), display."""
    checkpoint = ModelCheckpoint(
        dirpath=run_dir / CHECKPOINT_DIR,
        filename=BEST_CHECKPOINT,
        monitor=cfg.checkpoint.monitor,
        mode=cfg.checkpoint.mode,
        save_last=True,
        auto_insert_metric_name=False,
        enable_version_counter=False,
    )
    config = OmegaConf.to_container(cfg, resolve=True)
    in_checkpoint = ConfigInCheckpoint(config)  # type: ignore[arg-type]
    callbacks: list[Callback] = [checkpoint, in_checkpoint, RandomStateInCheckpoint()]
    if _enabled(cfg.early_stopping):
        callbacks.append(instantiate(cfg.early_stopping))
    callbacks += compression or []  # after early stopping: see ScheduledPruning's on_fit_end
    if cfg.logger:
        # the lr at each schedule's own interval; the config as flat hyperparameters
        callbacks += [LearningRateMonitor(), LogHyperparameters(cfg)]
    callbacks += config_callbacks(cfg)  # e.g. an Optuna trial's pruning (training/hooks.py)
    return callbacks + display_callbacks(cfg)


def config_callbacks(cfg: DictConfig) -> list[Callback]:
    """Every node of the `callbacks` mapping, instantiated by its `_target_`, in key order."""
    nodes = cfg.get("callbacks") or {}
    return [instantiate(nodes[name]) for name in sorted(nodes) if _enabled(nodes[name])]


def display_callbacks(cfg: DictConfig) -> list[Callback]:
    """Rich progress bar and model summary, where the trainer config turns them on."""
    shown: list[Callback] = []
    if cfg.trainer.get("enable_progress_bar") is not False:  # null: Lightning's default, on
        shown.append(ProgressBar())
    if cfg.trainer.get("enable_model_summary") is not False:
        shown.append(RichModelSummary())
    return shown


def build_loggers(cfg: DictConfig, run_dir: Path) -> list[Logger]:
    """Every logger under `cfg.logger`, writing inside the run directory."""
    return [_logger(node, str(run_dir)) for node in (cfg.logger or {}).values()]


def _logger(node: DictConfig, save_dir: str) -> Logger:
    """trainrig's logger builders take the directory first, positionally (a runtime argument);
    Lightning's loggers and a user's own by name."""
    if str(node.get("_target_")).startswith("trainrig."):
        return instantiate(node, save_dir)  # type: ignore[no-any-return]
    return instantiate(node, save_dir=save_dir)  # type: ignore[no-any-return]


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
        callbacks=callbacks,
        logger=build_loggers(cfg, run_dir),
        strategy=strategy,
        use_distributed_sampler=not getattr(data, "shards_itself", False),
        plugins=[SafeCheckpointIO()],  # atomic saves, weights-only loads
        default_root_dir=str(run_dir),
    )
