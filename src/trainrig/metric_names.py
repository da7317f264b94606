"""Names of the metrics trainrig's classifier logs, shared by validation and the runner."""

STAGES = ("train", "val", "test")
METRICS = ("loss", "acc")
# Metrics a callback (early stopping, checkpointing) may monitor during fit.
FIT_METRICS = tuple(f"{stage}/{m}" for stage in ("val", "train") for m in METRICS)
# Metrics a finished run writes to metrics.json and may return to a sweeper.
# model/parameters (the parameter count) lets a multi-objective sweep trade accuracy for size.
MODEL_SIZE = "model/parameters"
FINAL_METRICS = (*(f"{stage}/{m}" for stage in ("val", "test") for m in METRICS), MODEL_SIZE)
