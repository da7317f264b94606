"""Names of the metrics trainrig's classifier logs, shared by validation and the runner."""

from typing import Any

STAGES = ("train", "val", "test")
METRICS = ("loss", "acc")
# Metrics a callback (early stopping, checkpointing) may monitor during fit.
FIT_METRICS = tuple(f"{stage}/{m}" for stage in ("val", "train") for m in METRICS)
# Metrics a finished run writes to metrics.json and may return to a sweeper.
# model/parameters (the parameter count) lets a multi-objective sweep trade accuracy for size.
MODEL_SIZE = "model/parameters"
FINAL_METRICS = (*(f"{stage}/{m}" for stage in ("val", "test") for m in METRICS), MODEL_SIZE)
# The compressed model's figures (compression.json's "after" side, keyed as there), which a run
# with a `compression` option adds to metrics.json so a sweep can optimize them.
COMPRESSION_PREFIX = "compression/"
COMPRESSION_REPORT_KEYS = {
    "nonzero_parameters": "nonzero_parameters",
    "sparsity": "sparsity",
    "dense_bytes": "dense_bytes",
    "compressed_bytes": "compressed_bytes",
    "test_acc": "test/acc",
}
COMPRESSION_METRICS = tuple(COMPRESSION_PREFIX + name for name in COMPRESSION_REPORT_KEYS)
OBJECTIVES = (*FINAL_METRICS, *COMPRESSION_METRICS)


def compression_metrics(report: dict[str, Any]) -> dict[str, float]:
    """A compression report's compressed side as run metrics: `compression/test_acc`, ... ."""
    after = report["after"]
    return {COMPRESSION_PREFIX + k: float(after[key]) for k, key in COMPRESSION_REPORT_KEYS.items()}
