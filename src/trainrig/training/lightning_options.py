"""Stand-ins for the options whose `_target_` is Lightning's (or subclasses Lightning's): the keys
trainrig accepts, with Lightning's defaults and trainrig's ranges, as torch-free signatures.

Validating a config reads these, never Lightning (importing it takes seconds). The stand-ins are
not called by the runner: Hydra instantiates the `_target_` itself. Every key of
`pytorch_lightning.Trainer` is not listed yet, only the ones trainrig has always accepted.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from annotated_types import Ge, Gt

from trainrig.config.signature import option

Metric = str  # a logged metric (val/acc, ...): checked against the task's names
Precision = Literal[
    "64-true", "64", "32-true", "32", "16-mixed", "bf16-mixed", "16-true", "bf16-true"
]
Accelerator = Literal["auto", "cpu", "gpu", "cuda", "mps", "tpu"]
Count = Annotated[int, Ge(1)]


@option("trainer", target="pytorch_lightning.Trainer")
def trainer(
    max_epochs: Count = 1000,  # Lightning: None, which it sets to 1000 with a warning
    max_steps: Annotated[int, Ge(-1)] = -1,
    min_epochs: Annotated[int, Ge(0)] | None = None,
    max_time: str | None = None,
    accelerator: Accelerator = "auto",
    devices: Any = "auto",
    num_nodes: Count = 1,
    precision: Precision | None = None,
    deterministic: bool | None = None,
    benchmark: bool | None = None,
    sync_batchnorm: bool = False,
    gradient_clip_val: Annotated[float, Ge(0)] | None = None,
    gradient_clip_algorithm: Literal["norm", "value"] | None = None,
    accumulate_grad_batches: Count = 1,
    check_val_every_n_epoch: Count | None = 1,
    val_check_interval: Any = None,
    log_every_n_steps: Count | None = None,
    limit_train_batches: Annotated[Any, Gt(0)] = None,
    limit_val_batches: Annotated[Any, Ge(0)] = None,
    limit_test_batches: Annotated[Any, Gt(0)] = None,
    num_sanity_val_steps: Annotated[int, Ge(-1)] | None = None,
    enable_progress_bar: bool | None = None,
    enable_model_summary: bool | None = None,
) -> None:
    """`pytorch_lightning.Trainer`'s options that a `trainer` YAML may set."""


@option("logger", target="pytorch_lightning.loggers.CSVLogger")
def csv_logger(
    name: str | None = "lightning_logs",
    version: str | None = None,
    flush_logs_every_n_steps: Count = 100,
) -> None:
    """`pytorch_lightning.loggers.CSVLogger`'s options (the runner gives it `save_dir`)."""


@option("early_stopping", target="trainrig.training.callbacks.early_stopping.EarlyStopping")
def early_stopping(
    monitor: Metric,
    mode: Literal["min", "max"],
    patience: Count = 3,
    min_delta: Annotated[float, Ge(0)] = 0.0,
    restore_best: bool = False,
    check_finite: bool = True,
    verbose: bool = False,
) -> None:
    """trainrig's EarlyStopping (Lightning's, plus `restore_best`)."""
