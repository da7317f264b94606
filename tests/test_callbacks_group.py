"""The `callbacks` group: named callbacks merged from options, removed with `NAME=null`, a
user's own by `_target_`, each checked to be a Lightning Callback."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from omegaconf import DictConfig
from pytorch_lightning.callbacks import (
    DeviceStatsMonitor,
    GradientAccumulationScheduler,
    LearningRateMonitor,
    ModelCheckpoint,
    RichModelSummary,
    StochasticWeightAveraging,
)

from trainrig.config.errors import ConfigError
from trainrig.config.validate import validate
from trainrig.training.callbacks.group import CallbackGroup
from trainrig.training.callbacks.progress_bar import ProgressBar
from trainrig.training.run_callbacks import (
    build_callbacks,
    chosen_callbacks,
    display_callbacks,
    display_flags,
)

from .conftest import CliRunner

USER_CALLBACK = """
from pathlib import Path

import pytorch_lightning as pl


class Marker(pl.Callback):
    def __init__(self, path: str) -> None:
        self.path = Path(path)

    def on_fit_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.path.write_text(f"fit ended after epoch {trainer.current_epoch - 1}")
"""


def _types(callbacks: list[object]) -> list[type]:
    return [type(c) for c in callbacks]


def test_options_merge_into_one_mapping_of_named_callbacks(
    compose_train: Callable[..., DictConfig], tmp_path: Path
) -> None:
    cfg = compose_train("callbacks=[default,swa,device_stats,grad_accum]", "optimizer.lr=0.02")
    validate(cfg, "train")
    assert list(cfg.callbacks) == [
        "model_checkpoint", "lr_monitor", "progress_bar", "model_summary",
        "swa", "device_stats", "grad_accum",
    ]  # fmt: skip
    chosen = chosen_callbacks(cfg, tmp_path)
    assert _types(chosen) == [
        ModelCheckpoint, LearningRateMonitor, ProgressBar, RichModelSummary,
        StochasticWeightAveraging, DeviceStatsMonitor, GradientAccumulationScheduler,
    ]  # fmt: skip
    swa = chosen[4]
    assert isinstance(swa, StochasticWeightAveraging)
    assert swa._swa_lrs == 0.02  # the run's own lr, through ${optimizer.lr}
    best = chosen[0]
    assert isinstance(best, ModelCheckpoint)
    assert (best.monitor, best.mode, best.dirpath) == (
        "val/acc",
        "max",
        str(tmp_path / "checkpoints"),
    )
    every = build_callbacks(cfg, tmp_path, chosen, [])
    names = [type(c).__name__ for c in every]
    assert names[:4] == ["ModelCheckpoint", "ModelCheckpoint", "EarlyStopping", "CallbackGroup"]
    group = every[3]
    assert isinstance(group, CallbackGroup)  # trainrig's small ones, dispatched once per hook
    assert [type(c).__name__ for c in group.members] == [
        "ConfigInCheckpoint", "RandomStateInCheckpoint", "LogHyperparameters",
    ]  # fmt: skip


def test_name_null_removes_one_and_the_trainer_flags_still_turn_display_off(
    compose_train: Callable[..., DictConfig], tmp_path: Path
) -> None:
    cfg = compose_train("callbacks.lr_monitor=null", "callbacks.progress_bar=null")
    validate(cfg, "train")
    chosen = chosen_callbacks(cfg, tmp_path)
    assert LearningRateMonitor not in _types(chosen) and ProgressBar not in _types(chosen)
    assert display_flags(chosen) == {"enable_progress_bar": False, "enable_model_summary": True}
    quiet = compose_train("trainer.enable_model_summary=false")
    validate(quiet, "train")  # settles checkpoint.monitor and mode
    assert _types(display_callbacks(quiet)) == [ProgressBar]  # fine-tuning's, eval's
    shown = build_callbacks(quiet, tmp_path, chosen_callbacks(quiet, tmp_path), [])
    assert RichModelSummary not in _types(shown) and ProgressBar in _types(shown)


def test_a_target_that_builds_no_callback_is_refused_naming_its_key(
    compose_train: Callable[..., DictConfig], tmp_path: Path
) -> None:
    cfg = compose_train("+callbacks.identity={_target_:torch.nn.Identity}")
    validate(cfg, "train")
    with pytest.raises(
        ConfigError,
        match=r"^callbacks\.identity: torch\.nn\.Identity built a Identity, not a Lightning "
        r"Callback; .*callbacks\.identity=null$",
    ):
        chosen_callbacks(cfg, tmp_path)


def test_model_checkpoint_save_top_k_out_of_range_is_refused(
    compose_train: Callable[..., DictConfig],
) -> None:
    with pytest.raises(
        ConfigError, match=r"^callbacks\.model_checkpoint\.every_n_epochs: must be >= 1"
    ):
        validate(compose_train("callbacks.model_checkpoint.every_n_epochs=0"), "train")


def test_swa_top_k_and_a_users_callback_in_one_run(trainrig_cli: CliRunner, tmp_path: Path) -> None:
    """SWA averages weights (its state in last.ckpt counts the averaged epochs), every second
    epoch's checkpoint is kept (save_top_k=-1, every_n_epochs=2) beside best.ckpt and last.ckpt,
    the lr monitor is gone from the CSV, and the project's own callback ran."""
    (tmp_path / "my_callbacks.py").write_text(USER_CALLBACK)
    run_dir, marker = tmp_path / "run", tmp_path / "marker.txt"
    result = trainrig_cli(
        "train", "trainer=smoke", "trainer.max_epochs=3", "callbacks=[default,swa]",
        "callbacks.lr_monitor=null", "callbacks.model_checkpoint.save_top_k=-1",
        "callbacks.model_checkpoint.every_n_epochs=2",
        f"+callbacks.marker={{_target_:my_callbacks.Marker,path:'{marker}'}}",
        f"hydra.run.dir={run_dir}", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    with (run_dir / "csv" / "metrics.csv").open() as rows:
        table = list(csv.DictReader(rows))
    assert "train/lr" not in table[0]
    epochs = sorted({int(r["epoch"]) for r in table if r["val/acc"]})
    kept = {f"epoch={e}.ckpt" for e in epochs if (e + 1) % 2 == 0}
    files = {p.name for p in (run_dir / "checkpoints").iterdir()}
    assert files == {"best.ckpt", "last.ckpt", *kept} and kept
    states = torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)["callbacks"]
    swa = next(v for k, v in states.items() if k.startswith("StochasticWeightAveraging"))
    assert int(swa["n_averaged"]) >= 1
    assert marker.read_text() == f"fit ended after epoch {epochs[-1]}"
