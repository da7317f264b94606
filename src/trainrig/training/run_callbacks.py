"""The run's Lightning callbacks: the `callbacks` group's (docs/configuration.md, "Callbacks"),
trainrig's fixed ones (last.ckpt for resume, the config and random states in every checkpoint,
early stopping, hyperparameters for the loggers) and a compression method's."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hydra.utils import get_object, instantiate
from omegaconf import DictConfig, OmegaConf
from pytorch_lightning.callbacks import (
    Callback,
    LearningRateMonitor,
    ModelCheckpoint,
    ModelSummary,
    RichModelSummary,
)
from pytorch_lightning.callbacks import ProgressBar as LightningProgressBar

from trainrig.config.errors import ConfigError
from trainrig.config.signature import builder_for
from trainrig.training.callbacks.checkpoints import model_checkpoint
from trainrig.training.callbacks.config_in_checkpoint import ConfigInCheckpoint
from trainrig.training.callbacks.group import CallbackGroup
from trainrig.training.callbacks.log_hyperparameters import LogHyperparameters
from trainrig.training.callbacks.progress_bar import ProgressBar
from trainrig.training.callbacks.random_state import RandomStateInCheckpoint

CHECKPOINT_DIR = "checkpoints"
LAST_CHECKPOINT = "last"
DISPLAY = (LightningProgressBar, ModelSummary)


def _enabled(node: Any) -> bool:
    return node is not None and len(node) > 0


def chosen_callbacks(cfg: DictConfig, run_dir: Path) -> list[Callback]:
    """Every node of the `callbacks` mapping built, in its order; `model_checkpoint` gets the
    checkpoint folder and `checkpoint.monitor`/`mode`. `NAME: null` is left out; a node that
    builds anything but a Lightning Callback is refused, naming its key."""
    nodes = cfg.get("callbacks") or {}
    built: list[Callback] = []
    for name, node in nodes.items():
        if not _enabled(node):
            continue
        if builder_for(str(node.get("_target_"))) is model_checkpoint:
            folder = run_dir / CHECKPOINT_DIR
            made = instantiate(node, folder, cfg.checkpoint.monitor, cfg.checkpoint.mode)
        else:
            made = instantiate(node)
        for callback in made if isinstance(made, list) else [made]:
            if not isinstance(callback, Callback):
                raise ConfigError(
                    f"callbacks.{name}: {node.get('_target_')} built a "
                    f"{type(callback).__name__}, not a Lightning Callback; name a subclass of "
                    f"pytorch_lightning.Callback as `_target_`, or remove it: callbacks.{name}=null"
                )
            built.append(callback)
    return built


def build_callbacks(
    cfg: DictConfig,
    run_dir: Path,
    chosen: list[Callback],
    compression: list[Callback],
    always: Sequence[Callback] = (),
) -> list[Callback]:
    """The chosen checkpoints, last.ckpt (every epoch, for resume), early stopping, the
    compression method's callbacks (after early stopping: see ScheduledPruning's on_fit_end),
    one group of trainrig's small callbacks (the config and random states in every checkpoint,
    the runner's `always`, hyperparameters for the loggers), the other chosen ones, shown or not
    as the trainer config says."""
    # last.ckpt after every epoch, for resume: a checkpoint of its own, since Lightning 2.6's
    # `save_last=True` writes it only when the best checkpoint was saved in the same step
    last = ModelCheckpoint(
        dirpath=run_dir / CHECKPOINT_DIR, filename=LAST_CHECKPOINT, enable_version_counter=False
    )
    config = OmegaConf.to_container(cfg, resolve=True)
    in_checkpoint = ConfigInCheckpoint(config)  # type: ignore[arg-type]
    members: list[Callback] = [in_checkpoint, RandomStateInCheckpoint(), *always]
    saving = [c for c in chosen if isinstance(c, ModelCheckpoint)]
    callbacks: list[Callback] = [*saving, last]
    if _enabled(cfg.get("early_stopping")):
        callbacks.append(instantiate(cfg.early_stopping))
    callbacks += compression
    others = [c for c in chosen if not isinstance(c, ModelCheckpoint)]
    if cfg.get("logger"):
        members.append(LogHyperparameters(cfg))  # the config as flat hyperparameters
    else:  # Lightning refuses an lr monitor without a logger
        others = [c for c in others if not isinstance(c, LearningRateMonitor)]
    return [*callbacks, CallbackGroup(members), *shown(others, cfg.trainer)]


def shown(callbacks: list[Callback], trainer: DictConfig) -> list[Callback]:
    """`callbacks` less the progress bar and model summary that `trainer.enable_progress_bar`
    or `trainer.enable_model_summary` false turns off."""
    off: tuple[type, ...] = ()
    if trainer.get("enable_progress_bar") is False:
        off += (LightningProgressBar,)
    if trainer.get("enable_model_summary") is False:
        off += (ModelSummary,)
    return [c for c in callbacks if not isinstance(c, off)]


def display_flags(callbacks: list[Callback]) -> dict[str, bool]:
    """The Trainer's display switches for these callbacks: on only where one of them displays,
    so that removing `callbacks.progress_bar` does not bring Lightning's own bar back."""
    return {
        "enable_progress_bar": any(isinstance(c, LightningProgressBar) for c in callbacks),
        "enable_model_summary": any(isinstance(c, ModelSummary) for c in callbacks),
    }


def display_callbacks(cfg: DictConfig) -> list[Callback]:
    """The progress bar and model summary alone (for fine-tuning and `trainrig eval`): the
    `callbacks` mapping's, else (a config without one) trainrig's rich ones; where the trainer
    config turns them on."""
    nodes = cfg.get("callbacks")
    if nodes is None:
        return shown([ProgressBar(), RichModelSummary()], cfg.trainer)
    made = [instantiate(node) for node in nodes.values() if _displays(node)]
    return shown(made, cfg.trainer)


def _displays(node: Any) -> bool:
    if not _enabled(node) or not isinstance(node.get("_target_"), str):
        return False
    built = get_object(node["_target_"])
    return isinstance(built, type) and issubclass(built, DISPLAY)
