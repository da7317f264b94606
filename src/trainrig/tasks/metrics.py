"""The torchmetrics objects of a run's `metrics` config (names and directions: catalog.py)."""

from __future__ import annotations

from typing import Any

from hydra.utils import get_object
from torchmetrics import Metric

from trainrig.config.errors import ConfigError
from trainrig.tasks.catalog import CATALOG, chosen
from trainrig.tasks.options import SupervisedTask


def _sizing(task: SupervisedTask, num_outputs: int) -> dict[str, Any]:
    """What each of the task's metrics must be told about the outputs."""
    if task.kind == "classification":
        return {"num_classes": num_outputs}
    if task.kind == "multilabel":
        return {"num_labels": num_outputs}
    return {}


def build_metrics(task: SupervisedTask, metrics: Any, num_outputs: int) -> dict[str, Metric]:
    """Logged name -> a fresh torchmetrics object, for one stage."""
    built: dict[str, Metric] = {}
    for name, arguments in chosen(task.kind, metrics).items():
        kind = CATALOG[task.kind][arguments["metric"]]
        cls = get_object(kind.target)
        given = {k: v for k, v in arguments.items() if k != "metric"}
        extra = {"threshold": task.threshold} if hasattr(task, "threshold") else {}
        extra = {k: v for k, v in extra.items() if k in _parameters(cls)}
        options = {**dict(kind.defaults), **_sizing(task, num_outputs), **extra, **given}
        try:
            built[name] = cls(**options)
        except (TypeError, ValueError) as error:
            call = ", ".join(f"{k}={v!r}" for k, v in given.items())
            raise ConfigError(
                f"metrics.{name}: {cls.__name__}({call}) is refused: {error}; see torchmetrics' "
                f"documentation of {cls.__name__}"
            ) from None
    return built


def _parameters(cls: type) -> set[str]:
    import inspect

    return set(inspect.signature(cls).parameters)
