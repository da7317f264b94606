"""The metrics a `metrics` config may choose by name, per task, and which way each is better.

Torch-free: validation, the sweeper and the report read names and directions from here; the
runner builds the torchmetrics objects (`build_metric`) when training starts. A metric's logged
name is its key in `metrics` (`val/<key>`, `test/<key>`); the key is the catalog name unless the
entry says `metric: <name>` (e.g. `top3: {metric: acc, top_k: 3}`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from trainrig.config.errors import ConfigError


@dataclass(frozen=True)
class MetricKind:
    """A torchmetrics class by dotted name, the arguments trainrig gives it, its direction."""

    target: str
    higher_is_better: bool
    defaults: tuple[tuple[str, Any], ...] = ()


def _classification(name: str, **defaults: Any) -> MetricKind:
    return MetricKind(f"torchmetrics.classification.{name}", True, tuple(defaults.items()))


def _regression(name: str, higher: bool = False, **defaults: Any) -> MetricKind:
    return MetricKind(f"torchmetrics.regression.{name}", higher, tuple(defaults.items()))


CATALOG: dict[str, dict[str, MetricKind]] = {
    "classification": {
        "acc": _classification("MulticlassAccuracy", average="micro"),
        "f1": _classification("MulticlassF1Score", average="macro"),
        "precision": _classification("MulticlassPrecision", average="macro"),
        "recall": _classification("MulticlassRecall", average="macro"),
        "auroc": _classification("MulticlassAUROC"),
        "ap": _classification("MulticlassAveragePrecision"),
    },
    "multilabel": {
        "acc": _classification("MultilabelAccuracy"),
        "f1": _classification("MultilabelF1Score", average="macro"),
        "precision": _classification("MultilabelPrecision", average="macro"),
        "recall": _classification("MultilabelRecall", average="macro"),
        "auroc": _classification("MultilabelAUROC"),
        "ap": _classification("MultilabelAveragePrecision"),
    },
    "regression": {
        "mse": _regression("MeanSquaredError"),
        "rmse": _regression("MeanSquaredError", squared=False),
        "mae": _regression("MeanAbsoluteError"),
        "mape": _regression("MeanAbsolutePercentageError"),
        "r2": _regression("R2Score", higher=True),
        "explained_variance": _regression("ExplainedVariance", higher=True),
    },
}
DEFAULT_METRICS = {
    "classification": ("acc",),
    "multilabel": ("f1", "acc"),
    "regression": ("mse", "mae", "r2"),
}
LOSS = "loss"
FIT_STAGES = ("val", "train")  # what checkpointing and early stopping may monitor
RESULT_STAGES = ("val", "test")  # what a finished run writes to metrics.json
# Figures that are not per-stage metrics: lower is better for sizes and losses.
# losses, sizes, and the compression report's MACs per sample and CPU latencies
LOWER_IS_BETTER_SUFFIXES = ("loss", "parameters", "bytes", "per_sample", "batch1", "per_batch")


def chosen(kind: str, metrics: Any) -> dict[str, dict[str, Any]]:
    """The `metrics` config (None: the task's defaults; a list of names; or name -> arguments)
    as logged name -> arguments (with `metric` naming the catalog entry)."""
    if metrics is None:
        metrics = list(DEFAULT_METRICS[kind])
    if isinstance(metrics, list | tuple):
        return {str(name): {"metric": str(name)} for name in metrics}
    return {
        str(name): {"metric": str(name), **(dict(arguments) if arguments else {})}
        for name, arguments in dict(metrics).items()
    }


def check_catalog(kind: str, metrics: Any) -> None:
    """Raise ConfigError for a `metrics` config that is not names of the task's catalog."""
    if metrics is not None and not isinstance(metrics, list | tuple | dict):
        raise ConfigError(
            f"metrics: expected a list of names or a mapping of name -> arguments, got {metrics!r}"
        )
    for name, arguments in chosen(kind, metrics).items():
        if arguments["metric"] not in CATALOG[kind]:
            which = f"metrics.{name}" + (".metric" if name != arguments["metric"] else "")
            raise ConfigError(
                f"{which}: task={kind} has no metric {arguments['metric']!r}; choose from "
                f"{', '.join(CATALOG[kind])}"
            )


def kind_of(kind: str, arguments: dict[str, Any]) -> MetricKind:
    return CATALOG[kind][arguments["metric"]]


def logged_names(kind: str, metrics: Any, stages: tuple[str, ...]) -> list[str]:
    """`stage/name` for the loss and every chosen metric, stage by stage."""
    names = [LOSS, *chosen(kind, metrics)]
    return [f"{stage}/{name}" for stage in stages for name in names]


def not_logged(key: str, name: str, kind: str, metrics: Any) -> str | None:
    """The error for `key` monitoring `name`, when the task will not log it during fit."""
    during_fit = logged_names(kind, metrics, FIT_STAGES)
    if name in during_fit:
        return None
    return (
        f"{key}: {name} will not be logged; task={kind} with metrics "
        f"{list(chosen(kind, metrics))} logs {', '.join(during_fit)}"
    )


def higher_is_better(name: str, kind: str | None, metrics: Any = None) -> bool | None:
    """Which way `stage/name` is better: its catalog entry's direction, lower for losses, sizes,
    byte counts, MACs and latencies; None when trainrig cannot know (a user's LightningModule's
    own metric)."""
    short = name.rsplit("/", 1)[-1]
    if short.endswith(LOWER_IS_BETTER_SUFFIXES):
        return False
    if kind in CATALOG:
        entry = chosen(kind, metrics).get(short, {"metric": short})
        if entry["metric"] in CATALOG[kind]:
            return CATALOG[kind][entry["metric"]].higher_is_better
    if name.startswith("compression/"):
        return True  # sparsity, test_acc (its sizes end in parameters or bytes)
    return None
