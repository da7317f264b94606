"""Stand-ins for the options whose `_target_` is Lightning's (or subclasses Lightning's): the keys
trainrig accepts, with Lightning's defaults and trainrig's ranges, as torch-free signatures.

Validating a config reads these, never Lightning (importing it takes seconds). The stand-ins are
not called by the runner: Hydra instantiates the `_target_` itself.

The Trainer's keys are every keyword parameter of the installed `pytorch_lightning.Trainer`,
read from its source (`lightning_source.py`), less the ones trainrig sets itself (`TRAINER_OWNED`,
refused with the key to use instead); `_trainrig_ranges` adds trainrig's ranges and choices to
the keys it constrains. The callbacks' stand-ins are short and written out; tests compare them
with the real classes' signatures.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from typing import Annotated, Any, Literal

from annotated_types import Ge, Gt

from trainrig.config.errors import ConfigError
from trainrig.config.signature import option
from trainrig.training.lightning_source import init_parameters

Metric = str  # a logged metric (val/acc, ...): checked against the task's names
Precision = Literal[
    "64-true", "64", "32-true", "32", "16-mixed", "bf16-mixed", "16-true", "bf16-true"
]
Accelerator = Literal["auto", "cpu", "gpu", "cuda", "mps", "tpu"]
Count = Annotated[int, Ge(1)]
Batches = Annotated[int | float | None, Gt(0)]  # a count of batches, or a fraction of them
PROFILERS = ("simple", "advanced", "pytorch", "xla")  # Lightning's profiler names

# Trainer arguments trainrig gives itself, and the config key a user sets instead.
TRAINER_OWNED = {
    "logger": "trainrig builds the loggers from the `logger` group: logger=csv, "
    "logger=[csv,tensorboard], ~logger for none",
    "callbacks": "trainrig builds the callbacks from the `callbacks` group: "
    "callbacks=[default,swa], callbacks.NAME=null, +callbacks.NAME={_target_: ...}",
    "strategy": "the `strategy` group chooses it: strategy=ddp (`trainrig list strategy`)",
    "plugins": "trainrig gives the Trainer its own checkpoint IO (atomic saves, weights-only "
    "loads); other plugins are not supported",
    "default_root_dir": "the run directory is hydra.run.dir",
    "use_distributed_sampler": "trainrig's data modules split batches across processes "
    "themselves; a user's own data module gets Lightning's sampler",
    "enable_checkpointing": "checkpoints are callbacks.model_checkpoint (best.ckpt; "
    "save_top_k, every_n_epochs; callbacks.model_checkpoint=null for none); last.ckpt is "
    "always written, for resume",
    "barebones": "a run needs its checkpoints and loggers, which barebones turns off; use "
    "debug=fdr or debug=limit for a quick run",
}


def _trainrig_ranges(
    max_epochs: Count = 1000,  # Lightning: None, which it sets to 1000 with a warning
    max_steps: Annotated[int, Ge(-1)] = -1,
    min_epochs: Annotated[int, Ge(0)] | None = None,
    min_steps: Annotated[int, Ge(0)] | None = None,
    max_time: str | None = None,
    accelerator: Accelerator = "auto",
    num_nodes: Count = 1,
    precision: Precision | None = None,
    deterministic: bool | None = None,
    gradient_clip_val: Annotated[float, Ge(0)] | None = None,
    gradient_clip_algorithm: Literal["norm", "value"] | None = None,
    accumulate_grad_batches: Count = 1,
    check_val_every_n_epoch: Count | None = 1,
    log_every_n_steps: Count | None = None,
    fast_dev_run: Annotated[int | bool, Ge(0)] = False,
    overfit_batches: Annotated[int | float, Ge(0)] = 0.0,
    limit_train_batches: Batches = None,
    limit_val_batches: Annotated[int | float | None, Ge(0)] = None,
    limit_test_batches: Batches = None,
    limit_predict_batches: Batches = None,
    num_sanity_val_steps: Annotated[int, Ge(-1)] | None = None,
    reload_dataloaders_every_n_epochs: Annotated[int, Ge(0)] = 0,
) -> None:
    """trainrig's ranges and choices for the Trainer keys it constrains (and its max_epochs)."""


def _known_profiler(**keys: Any) -> None:
    profiler = keys["profiler"]
    if isinstance(profiler, str) and profiler not in PROFILERS:
        raise ConfigError(
            f"trainer.profiler: {profiler!r} is not a profiler; choose one of "
            f"{', '.join(PROFILERS)}, or a node with its `_target_` (debug=profiler writes "
            "the simple one's report to <run>/profiler/)"
        )


def _trainer_stand_in() -> Callable[..., None]:
    """A function whose keyword parameters are the installed Trainer's, with trainrig's ranges."""
    ours = inspect.signature(_trainrig_ranges).parameters
    our_types = typing.get_type_hints(_trainrig_ranges, include_extras=True)
    parameters = [
        p.replace(default=ours[p.name].default, annotation=our_types[p.name])
        if p.name in ours
        else p
        for p in init_parameters("pytorch_lightning.trainer.trainer", "Trainer")
        if p.name not in TRAINER_OWNED
    ]

    def trainer(**options: Any) -> None:
        """`pytorch_lightning.Trainer`'s options that a `trainer` YAML may set."""

    trainer.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    trainer.__annotations__ = {p.name: p.annotation for p in parameters}
    mark = option(
        "trainer", target="pytorch_lightning.Trainer", rule=_known_profiler, refused=TRAINER_OWNED
    )
    return mark(trainer)


trainer = _trainer_stand_in()


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


@option("callbacks", target="trainrig.training.callbacks.progress_bar.ProgressBar")
def progress_bar(
    min_interval: Annotated[float, Gt(0)] = 0.1, refresh_rate: Count = 10, leave: bool = False
) -> None:
    """trainrig's rich progress bar: redrawn at most every `min_interval` seconds."""


@option("callbacks", target="pytorch_lightning.callbacks.RichModelSummary")
def rich_model_summary(max_depth: Annotated[int, Ge(-1)] = 1) -> None:
    """`pytorch_lightning.callbacks.RichModelSummary`: the model's layers, `max_depth` deep."""


@option("callbacks", target="pytorch_lightning.callbacks.LearningRateMonitor")
def lr_monitor(
    logging_interval: Literal["step", "epoch"] | None = None,
    log_momentum: bool = False,
    log_weight_decay: bool = False,
) -> None:
    """`pytorch_lightning.callbacks.LearningRateMonitor`: logs the lr (`train/lr`)."""


@option("callbacks", target="pytorch_lightning.callbacks.StochasticWeightAveraging")
def stochastic_weight_averaging(
    swa_lrs: Annotated[float, Gt(0)] | list[float],
    swa_epoch_start: Annotated[int | float, Gt(0)] = 0.8,
    annealing_epochs: Annotated[int, Ge(0)] = 10,
    annealing_strategy: Literal["cos", "linear"] = "cos",
    device: str | None = "cpu",  # Lightning: torch.device("cpu")
) -> None:
    """`pytorch_lightning.callbacks.StochasticWeightAveraging` (its `avg_fn` left out)."""


@option("callbacks", target="pytorch_lightning.callbacks.DeviceStatsMonitor")
def device_stats_monitor(cpu_stats: bool | None = None) -> None:
    """`pytorch_lightning.callbacks.DeviceStatsMonitor`: device (and CPU) statistics logged."""


@option("callbacks", target="pytorch_lightning.callbacks.GradientAccumulationScheduler")
def gradient_accumulation_scheduler(scheduling: dict[int, int]) -> None:
    """`pytorch_lightning.callbacks.GradientAccumulationScheduler`: epoch -> batches per step."""
