"""The top-level keys of each command and its `checkpoint`, `lr_find` and `repeat` nodes, as
torch-free typed signatures: their only schema and defaults (conf/train.yaml etc. state none).

They have no builder of their own: the runner reads them from the config (`cfg.seed`,
`cfg.checkpoint.monitor`), so these signatures declare them, as `lightning_options` declares
Lightning's; validation checks a config against them and the option source
(`config/option_defaults.py`) fills the keys a file leaves out.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any, Literal

from annotated_types import Ge, Gt

from trainrig.config.errors import ConfigError
from trainrig.config.signature import option

Rate = Annotated[float, Gt(0)]


def _scaling(**keys: Any) -> None:
    if keys["lr_scaling"] != "none" and keys["batch_size_scope"] == "global":
        raise ConfigError(
            f"lr_scaling={keys['lr_scaling']} scales the lr with the global batch, but "
            "batch_size_scope=global keeps it at data.batch_size whatever the number of "
            "devices: set lr_scaling=none, or batch_size_scope=per_device"
        )


@option("", rule=_scaling)
def train(
    task_name: str = "train",
    seed: Annotated[int, Ge(0)] = 42,
    resume: Literal["auto"] | None = None,
    optimized_metric: str | list[str] | None = None,
    metrics: Any = None,
    batch_size_scope: Literal["per_device", "global"] = "per_device",
    lr_scaling: Literal["none", "linear", "sqrt"] = "none",
    allow_any_target: bool = False,
    on_nonfinite_loss: Literal["stop", "continue"] = "stop",
) -> None:
    """`trainrig train` and `lr-find`. `seed` seeds Python, NumPy, torch and the data split.
    `resume: auto` continues from the run directory's checkpoints/last.ckpt, if there is one.
    `optimized_metric` is what a run returns to a sweeper: one metric as logged (val/acc,
    test/acc, ...) or a list for a multi-objective sweep (compression/* figures need a
    `compression` option); null: the checkpoint's monitor. `metrics` chooses the task's metrics
    by name (a list, or name -> torchmetrics arguments; null: the task's defaults; see
    tasks/catalog.py). `batch_size_scope`: data.batch_size counts one device's samples
    (per_device, Lightning's meaning) or all devices' together (global). `lr_scaling` scales
    optimizer.lr with the number N of data-parallel processes: none, linear (x N, Goyal et al.
    2017) or sqrt. `allow_any_target`: `_target_` may name any callable, not only trainrig's and
    its libraries', the project's own modules and its pyproject.toml's `trusted_modules` (only
    for configs you trust; see config/target_allowlist.py). `on_nonfinite_loss`: a NaN or
    infinite training loss stops the run at that step with exit status 1 (stop), or training
    goes on (continue)."""


@option("")
def from_checkpoint(
    ckpt_path: str,
    task_name: str = "eval",
    trust_checkpoint: bool = False,
    allow_any_target: bool = False,
) -> None:
    """`trainrig eval` and `compress`: `ckpt_path` is a checkpoint `trainrig train` wrote
    (.../checkpoints/best.ckpt). `trust_checkpoint` true loads one that holds pickled Python
    objects (it can run code: only files you trust); false, tensors and plain data only.
    `allow_any_target` as in `train`, for the checkpoint's config too."""


@option("checkpoint")
def checkpoint(monitor: str | None = None, mode: Literal["min", "max"] | None = None) -> None:
    """Which epoch's weights are "best" (checkpoints/best.ckpt, then validated and tested).
    `monitor` null: the task's main validation metric (val/acc for classification); `mode` null:
    that metric's direction (tasks/settle.py)."""


@option("")
def predict(
    ckpt_path: str,
    task_name: str = "predict",
    trust_checkpoint: bool = False,
    allow_any_target: bool = False,
    split: Literal["train", "val", "test"] = "test",
    input: str | None = None,
    output: str | None = None,
) -> None:
    """`trainrig predict`: the predictions of the checkpoint at `ckpt_path` for `split` of the
    data it was trained on or, when `input` is given, for a folder of images or a CSV of new
    rows (the training CSV's feature columns). Written as a CSV to `output` (null:
    predictions.csv in the command's run directory). `trust_checkpoint`, `allow_any_target` as
    in `eval`."""


@option("init_from")
def init_from(path: str | None = None, strict: bool = False, freeze: Sequence[str] = ()) -> None:
    """Fine-tuning: start a new run from the weights of the checkpoint at `path` (optimizer and
    schedule fresh). The tensors that match by name and shape are loaded, the rest reported;
    `strict` refuses any mismatch. `freeze` names parameters (or the layers above them, e.g.
    model.0) that keep their loaded values. `init_from=PATH` is short for `init_from.path=PATH`."""


def _min_below_max(**keys: Any) -> None:
    if keys["min_lr"] >= keys["max_lr"]:
        raise ConfigError(
            f"lr_find.min_lr must be below lr_find.max_lr; got {keys['min_lr']} >= {keys['max_lr']}"
        )


@option("lr_find", rule=_min_below_max)
def lr_find(
    min_lr: Rate = 1e-6,
    max_lr: Rate = 1.0,
    num_training: Annotated[int, Ge(2)] = 100,
    mode: Literal["exponential", "linear"] = "exponential",
) -> None:
    """Lightning's LR range test (`Tuner.lr_find`): `num_training` optimizer steps from `min_lr`
    to `max_lr`, the lr growing `exponential`ly or `linear`ly between steps."""


def _one_way_of_repeating(**keys: Any) -> None:
    seeds, folds, fold = keys["seeds"], keys["folds"], keys["fold"]
    if seeds is not None and folds is not None:
        raise ConfigError(
            "repeat: give repeat.seeds or repeat.folds, not both (k-fold runs use `seed` for "
            "every fold); set the other to null"
        )
    if seeds is not None and len(seeds) < 2:
        raise ConfigError(
            f"repeat.seeds: a spread needs at least two seeds, got {list(seeds)}; give several "
            "(repeat.seeds=[1,2,3]) or set seed=N for one run"
        )
    if seeds is not None and len(set(seeds)) < len(seeds):
        raise ConfigError(f"repeat.seeds: {list(seeds)} names a seed twice; give each once")
    if fold is not None and (folds is None or fold >= folds):
        given = "null" if folds is None else folds
        raise ConfigError(
            f"repeat.fold={fold} picks one of repeat.folds folds (0 to folds - 1), but "
            f"repeat.folds={given}; set repeat.folds=K, or repeat.fold=null"
        )


@option("repeat", rule=_one_way_of_repeating)
def repeat(
    seeds: list[Annotated[int, Ge(0)]] | None = None,
    folds: Annotated[int, Ge(2)] | None = None,
    fold: Annotated[int, Ge(0)] | None = None,
) -> None:
    """Run the config several times and report each metric's mean and sample standard deviation
    (metrics.json: `val/acc` holds the mean, `val/acc_mean` and `val/acc_std` beside it; each
    repetition's own files in repeats/seed_N/ or repeats/fold_N/). `seeds`: once per seed.
    `folds`: k-fold cross-validation, stratified for classes, over the train and val splits
    together (the test split stays as it is), shuffled with `seed`. `fold`: run that one fold
    alone (0 to folds - 1; trainrig sets it for each fold's run)."""


# command -> the keys at the top of its config; the nested nodes every command may hold
TOP_LEVEL: dict[str, Callable[..., None]] = {
    "train": train,
    "lr_find": train,
    "eval": from_checkpoint,
    "compress": from_checkpoint,
    "predict": predict,
}
NESTED: dict[str, Callable[..., None]] = {
    "checkpoint": checkpoint,
    "lr_find": lr_find,
    "init_from": init_from,
    "repeat": repeat,
}
