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
    "parameters": "parameters",
    "nonzero_parameters": "nonzero_parameters",
    "sparsity": "sparsity",
    "dense_bytes": "dense_bytes",
    "compressed_bytes": "compressed_bytes",
    "macs_per_sample": "macs_per_sample",
    "cpu_latency_ms_batch1": "cpu_latency_ms_batch1",
    "cpu_latency_ms_per_batch": "cpu_latency_ms_per_batch",
    "test_acc": "test/acc",
}
# With `export: onnx` the report adds the exported model's latency in onnxruntime.
COMPRESSION_ONNX_KEYS = ("onnxruntime_latency_ms_batch1", "onnxruntime_latency_ms_per_batch")
COMPRESSION_ONNX_METRICS = tuple(COMPRESSION_PREFIX + name for name in COMPRESSION_ONNX_KEYS)
COMPRESSION_METRICS = tuple(COMPRESSION_PREFIX + name for name in COMPRESSION_REPORT_KEYS)
OBJECTIVES = (*FINAL_METRICS, *COMPRESSION_METRICS)


def compression_metrics(report: dict[str, Any]) -> dict[str, float]:
    """A compression report's compressed side as run metrics: its sizes, and each test metric
    `test/<name>` as `compression/test_<name>` (test_acc for trainrig's classifier), and the
    onnxruntime latencies of an exported one."""
    after = report["after"]
    sizes = {k: key for k, key in COMPRESSION_REPORT_KEYS.items() if not key.startswith("test/")}
    sizes |= {key: key for key in COMPRESSION_ONNX_KEYS if key in after}
    tests = {key.replace("/", "_", 1): key for key in after if key.startswith("test/")}
    return {COMPRESSION_PREFIX + k: float(after[key]) for k, key in {**sizes, **tests}.items()}
