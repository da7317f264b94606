"""The metric choices a config may leave to its task, made explicit before anything reads them.

`checkpoint.monitor: null` is the task's main validation metric (`val/` + its first metric, or
`val/loss` for a user's LightningModule), `checkpoint.mode: null` that metric's direction (known
for losses and the catalog's metrics; a user's own metric needs its mode stated), and
`optimized_metric: null` the checkpoint's monitor. Early stopping follows the checkpoint unless set.
"""

from __future__ import annotations

from typing import Any

from omegaconf import DictConfig, OmegaConf, open_dict

from trainrig.config.errors import ConfigError
from trainrig.config.signature import builder_for
from trainrig.tasks.catalog import check_catalog, chosen, higher_is_better, not_logged

USER_MODULE = "lightning_module"


def task_kind(config: Any) -> str:
    """classification, multilabel, regression or lightning_module, from the `task` node's
    `_target_` (classification when there is none: configs from before tasks existed)."""
    node = config.get("task") if config is not None else None
    target = node.get("_target_") if node else None
    builder = builder_for(str(target)) if target else None
    return str(getattr(builder, "kind", "classification")) if target else "classification"


def main_metric(config: Any) -> str:
    """The metric a run is judged by when the config names none."""
    kind = task_kind(config)
    if kind == USER_MODULE:
        return "val/loss"
    return f"val/{next(iter(chosen(kind, _plain(config.get('metrics')))))}"


def mode_of(metric: str, config: Any) -> str | None:
    """max or min for `metric` under this config's task and metrics; None when not known."""
    higher = higher_is_better(metric, task_kind(config), _plain(config.get("metrics")))
    return None if higher is None else ("max" if higher else "min")


def settle_metrics(cfg: DictConfig) -> None:
    """Fill `checkpoint.monitor`, `checkpoint.mode` and `optimized_metric` where null."""
    checkpoint = cfg.get("checkpoint")
    if not isinstance(checkpoint, DictConfig):  # none, or not a mapping: validate names it
        return
    kind = task_kind(cfg)
    if kind != USER_MODULE:
        check_catalog(kind, _plain(cfg.get("metrics")))  # before any name is drawn from it
    with open_dict(cfg):
        if checkpoint.get("monitor") is None:
            checkpoint.monitor = main_metric(cfg)
        if checkpoint.get("mode") is None:
            mode = mode_of(str(checkpoint.monitor), cfg)
            metrics = _plain(cfg.get("metrics"))
            if kind != USER_MODULE and (
                error := not_logged("checkpoint.monitor", str(checkpoint.monitor), kind, metrics)
            ):
                raise ConfigError(error)
            if mode is None:
                raise ConfigError(
                    f"checkpoint.mode: trainrig cannot know whether {checkpoint.monitor} is "
                    "better high or low (your module logs it); set checkpoint.mode=max or "
                    "checkpoint.mode=min"
                )
            checkpoint.mode = mode
        if "optimized_metric" in cfg and cfg.optimized_metric is None:
            cfg.optimized_metric = checkpoint.monitor


def settled(cfg: DictConfig) -> DictConfig:
    """A copy of `cfg` with its metric choices settled (the original stays as composed)."""
    copy = cfg.copy()
    settle_metrics(copy)
    return copy


def _plain(node: Any) -> Any:
    return OmegaConf.to_container(node) if OmegaConf.is_config(node) else node
