"""Rules that span groups, checked once every group has passed its own signature's check."""

from __future__ import annotations

from typing import Any

from trainrig.compression.iterative_pruning import IterativePruning
from trainrig.config.errors import ConfigError
from trainrig.config.signature import builder_for
from trainrig.tasks.names_check import check_metric_names
from trainrig.tasks.settle import task_kind
from trainrig.training.metric_names import COMPRESSION_PREFIX


def check_across_groups(values: dict[str, Any], task: str) -> None:
    """Raise ConfigError where two groups' settings contradict each other."""
    if task in ("train", "lr_find"):
        check_metric_names(values)
    _repeat_trains(values.get("repeat") or {}, task)
    compression = values.get("compression") or {}
    _compression_fits_the_task(compression, values)
    _compression_objectives_need_compression(values.get("optimized_metric"), compression)
    target = compression.get("_target_")
    if isinstance(target, str) and builder_for(target) is IterativePruning:
        settings = {k: v for k, v in compression.items() if not k.startswith("_")}
        _iterative_pruning_fits(IterativePruning(**settings), values.get("trainer") or {}, task)


def _repeat_trains(repeat: dict[str, Any], task: str) -> None:
    if task == "lr_find" and any(value is not None for value in repeat.values()):
        raise ConfigError(
            "repeat: `trainrig lr-find` runs its range test once; leave repeat.seeds, "
            "repeat.folds and repeat.fold null here (repeat trains with `trainrig train`)"
        )


def _compression_fits_the_task(compression: dict[str, Any], values: dict[str, Any]) -> None:
    target = compression.get("_target_")
    method = builder_for(target) if isinstance(target, str) else None
    kind = task_kind(values)
    if method is not None and kind != "classification" and not getattr(method, "any_task", False):
        name = getattr(method, "name", None) or compression.get("name") or target
        raise ConfigError(
            f"compression: {name} works on trainrig's single-label classifier (its model, class "
            f"logits and test accuracy), not with task={kind}; choose prune_global, prune_l1, "
            "prune_structured, quantize_dynamic or export_onnx, which compress any "
            "LightningModule, or compression=none"
        )


def _compression_objectives_need_compression(wanted: Any, compression: dict[str, Any]) -> None:
    names = [wanted] if isinstance(wanted, str) else list(wanted or [])
    figures = [name for name in names if str(name).startswith(COMPRESSION_PREFIX)]
    if figures and not compression:
        raise ConfigError(
            f"optimized_metric: {figures[0]} is a figure of the compressed model, but "
            "compression=none; choose a compression option (e.g. compression=prune_global) "
            "or an uncompressed metric such as val/acc"
        )


def _iterative_pruning_fits(pruning: IterativePruning, trainer: dict[str, Any], task: str) -> None:
    if task == "compress":
        raise ConfigError(
            "compression=prune_iterative prunes while training, not a trained checkpoint; use "
            "compression=prune_global (or prune_l1, prune_structured) here, or "
            "`trainrig train compression=prune_iterative`"
        )
    last = max(pruning.schedule())
    max_epochs = trainer.get("max_epochs")
    if isinstance(max_epochs, int) and last + 2 > max_epochs:
        raise ConfigError(
            f"compression: the last pruning step ends epoch {last} (start_epoch + (steps - 1) * "
            f"every_n_epochs, counted from 0), so trainer.max_epochs={max_epochs} leaves no epoch "
            f"to train at the final sparsity; set trainer.max_epochs>={last + 2} or prune "
            "earlier (compression.start_epoch, compression.steps, compression.every_n_epochs)"
        )
