"""Every metric a config names must be one its task logs: checked before anything is built.

For the built-in tasks the names are known from the config (`tasks/catalog.py`); for a user's
LightningModule they are known only once it has validated, so `MonitoredMetricsCheck` checks them
then (training/callbacks/monitored_metrics.py).
"""

from __future__ import annotations

from typing import Any

from trainrig.config.errors import ConfigError
from trainrig.tasks.catalog import RESULT_STAGES, check_catalog, logged_names, not_logged
from trainrig.tasks.settle import USER_MODULE, mode_of, task_kind
from trainrig.training.metric_names import (
    COMPRESSION_METRICS,
    COMPRESSION_ONNX_METRICS,
    MODEL_SIZE,
)


def check_metric_names(values: dict[str, Any]) -> None:
    """Raise ConfigError for an unknown metric, a monitor the task will not log, or a mode that
    contradicts its metric's direction."""
    kind = task_kind(values)
    metrics = values.get("metrics")
    if kind == USER_MODULE:
        if metrics is not None:
            raise ConfigError(
                "metrics: task=lightning_module logs what your module logs (self.log); "
                "remove `metrics`, or choose a built-in task"
            )
        return
    check_catalog(kind, metrics)
    for key, name in monitors(values):
        if (error := not_logged(key, name, kind, metrics)) is not None:
            raise ConfigError(error)
    finished = finished_metric_names(values) or []
    wanted = values.get("optimized_metric")
    for name in [wanted] if isinstance(wanted, str) else list(wanted or []):
        if name in COMPRESSION_ONNX_METRICS and not _exports_onnx(values):
            raise ConfigError(
                f"optimized_metric: {name} is measured on the model's ONNX export; add "
                "compression.export=onnx"
            )
        if name not in finished:
            raise ConfigError(
                f"optimized_metric: {name} is not among a finished run's metrics; choose from "
                f"{', '.join(finished)} (or a list of them)"
            )
    _check_modes(values)


def finished_metric_names(values: dict[str, Any]) -> list[str] | None:
    """The names a finished run of this config writes to metrics.json; None for a user's
    LightningModule, whose names are known only once it ran."""
    kind = task_kind(values)
    if kind == USER_MODULE:
        return None
    metrics = values.get("metrics")
    return [
        *logged_names(kind, metrics, RESULT_STAGES),
        MODEL_SIZE,
        *compression_figures(kind, metrics, exported=_exports_onnx(values)),
    ]


def _exports_onnx(values: dict[str, Any]) -> bool:
    compression = values.get("compression")
    return isinstance(compression, dict) and compression.get("export") == "onnx"


def compression_figures(kind: str, metrics: Any, exported: bool = False) -> list[str]:
    """The `compression/*` figures a run of this task with a compression option writes (with
    `exported`, an ONNX export's onnxruntime latencies too)."""
    sizes = [name for name in COMPRESSION_METRICS if not name.endswith("test_acc")]
    sizes += list(COMPRESSION_ONNX_METRICS) if exported else []
    tests = [
        n
        for n in logged_names(kind, metrics, ("test",))
        if kind != "classification" or n == "test/acc"
    ]
    return [*sizes, *(f"compression/{name.replace('/', '_', 1)}" for name in tests)]


def monitors(values: dict[str, Any]) -> list[tuple[str, str]]:
    """(key, metric) of every monitor in the config: checkpoint, early stopping, plateau."""
    found = []
    for node_key in ("checkpoint", "early_stopping", "scheduler"):
        node = values.get(node_key) or {}
        if isinstance(node, dict) and isinstance(node.get("monitor"), str):
            found.append((f"{node_key}.monitor", node["monitor"]))
    return found


def _check_modes(values: dict[str, Any]) -> None:
    for node_key in ("checkpoint", "early_stopping", "scheduler"):
        node = values.get(node_key) or {}
        if not isinstance(node, dict) or not isinstance(node.get("monitor"), str):
            continue
        wants = mode_of(node["monitor"], values)
        if node.get("mode") is not None and wants is not None and node["mode"] != wants:
            raise ConfigError(
                f"{node_key}.mode: {node['monitor']} is better "
                f"{'high' if wants == 'max' else 'low'}, but {node_key}.mode={node['mode']}; "
                f"set {node_key}.mode={wants} or leave it out"
            )
