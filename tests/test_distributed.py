"""Data and model parallel training on CPU over gloo: real processes, compared with one process."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from .conftest import CliRunner

CPU = ["trainer.accelerator=cpu", "trainer.enable_progress_bar=false"]
# No randomness that differs between one process and two: no augmentation, no dropout, and no
# batch norm (torch's SyncBatchNorm needs GPUs; per-process statistics would differ).
SAME_WORK = [
    *CPU, "augmentation=none", "model.dropout=0", "model.batch_norm=false",
    "early_stopping=none", "trainer.max_epochs=2", "trainer.limit_train_batches=5",
    "trainer.enable_model_summary=false",
]  # fmt: skip
DDP = ["strategy=ddp", "trainer.devices=2"]
# A rank as ddp_spawn starts one: it sets up the strategy's gloo group and exits the ordinary way,
# through the interpreter's teardown. The handler registered first runs last, after the others.
RANK_EXITING = """
import atexit
import pytorch_lightning as pl
import torch.distributed
from hydra.utils import instantiate
from omegaconf import OmegaConf

atexit.register(lambda: print("group alive at exit's end:", torch.distributed.is_initialized()))
strategy = instantiate(OmegaConf.load("{config}"))
trainer = pl.Trainer(accelerator="cpu", devices=1, strategy=strategy, logger=False)
trainer.strategy.setup_environment()
print("backend:", torch.distributed.get_backend())
"""


def _epoch_rows(run: Path, key: str) -> list[float]:
    with (run / "csv" / "metrics.csv").open() as file:
        return [float(row[key]) for row in csv.DictReader(file) if row.get(key)]


def _steps_per_epoch(run: Path) -> int:
    with (run / "csv" / "metrics.csv").open() as file:
        rows = [row for row in csv.DictReader(file) if row.get("train/loss")]
    return int(rows[0]["step"]) + 1


def _weights(checkpoint: Path) -> dict[str, torch.Tensor]:
    return torch.load(checkpoint, weights_only=True)["state_dict"]  # type: ignore[no-any-return]


@pytest.mark.slow
def test_two_ddp_processes_train_as_one_process_with_the_same_global_batch(
    trainrig_cli: CliRunner, tmp_path: Path
) -> None:
    same = [*SAME_WORK, "batch_size_scope=global", "data.batch_size=32"]
    one = trainrig_cli("train", *same, "hydra.run.dir=one", cwd=tmp_path)
    two = trainrig_cli("train", *same, *DDP, "hydra.run.dir=two", cwd=tmp_path)
    assert one.returncode == 0, one.stderr
    assert two.returncode == 0, two.stderr
    assert (tmp_path / "two" / "train_ddp_process_1.log").is_file()  # a second rank ran
    # the same loss curve, step for step (each rank saw half of each global batch)
    assert _epoch_rows(tmp_path / "two", "train/loss") == pytest.approx(
        _epoch_rows(tmp_path / "one", "train/loss"), abs=1e-5
    )
    # the same final weights, within float summation order amplified by Adam over 10 steps
    last = Path("checkpoints", "last.ckpt")
    alone, together = _weights(tmp_path / "one" / last), _weights(tmp_path / "two" / last)
    assert alone.keys() == together.keys()
    for name in alone:
        torch.testing.assert_close(together[name], alone[name], atol=1e-4, rtol=1e-4)
    # metrics.json: every test and validation sample counted once, whatever the process count
    metrics_one = json.loads((tmp_path / "one" / "metrics.json").read_text())
    metrics_two = json.loads((tmp_path / "two" / "metrics.json").read_text())
    assert metrics_two.keys() == metrics_one.keys()
    assert metrics_two == pytest.approx(metrics_one, abs=1e-5)
    assert two.stdout.count("Final metrics") == 1  # only rank 0 reports


@pytest.mark.slow
def test_per_device_batches_double_the_global_batch_and_linear_scaling_doubles_the_lr(
    trainrig_cli: CliRunner, tmp_path: Path
) -> None:
    common = [*CPU, "trainer=smoke", "trainer.limit_train_batches=null", "trainer.max_epochs=1",
              "scheduler=none",  # a constant lr, logged as train/lr
              "optimizer.lr=0.001", "data.batch_size=64"]  # fmt: skip
    one = trainrig_cli("train", *common, "hydra.run.dir=one", cwd=tmp_path)
    two = trainrig_cli(
        "train", *common, *DDP, "lr_scaling=linear", "hydra.run.dir=two", cwd=tmp_path
    )
    assert one.returncode == 0, one.stderr
    assert two.returncode == 0, two.stderr
    steps_one, steps_two = _steps_per_epoch(tmp_path / "one"), _steps_per_epoch(tmp_path / "two")
    assert steps_two == (steps_one + 1) // 2  # 2 x 64 samples per step instead of 64
    lr_one, lr_two = (
        _epoch_rows(tmp_path / "one", "train/lr"),
        _epoch_rows(tmp_path / "two", "train/lr"),
    )
    assert lr_one and lr_one == pytest.approx([0.001] * len(lr_one))
    assert lr_two and lr_two == pytest.approx([0.002] * len(lr_two))


@pytest.mark.slow
def test_a_multirun_of_two_jobs_runs_ddp_inside_each(
    trainrig_cli: CliRunner, tmp_path: Path
) -> None:
    result = trainrig_cli(
        "train", "-m", "trainer=smoke", *CPU, *DDP, "seed=1,2", "hydra.sweep.dir=multi",
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    jobs = sorted(p.name for p in (tmp_path / "multi").iterdir() if p.is_dir())
    assert jobs == ["0", "1"]  # no rank started a multirun of its own
    for job, seed in (("0", 1), ("1", 2)):
        folder = tmp_path / "multi" / job
        assert json.loads((folder / "metrics.json").read_text())["test/acc"] >= 0.0
        assert (folder / "train_ddp_process_1.log").is_file()
        assert f"seed: {seed}" in (folder / "config.yaml").read_text()
    assert not (tmp_path / "outputs").exists()
    assert result.stdout.count("Final metrics") == 2  # once per job, from rank 0


@pytest.mark.slow
def test_model_parallel_splits_the_mlp_across_two_processes_and_eval_reads_its_checkpoint(
    trainrig_cli: CliRunner, tmp_path: Path
) -> None:
    train = trainrig_cli(
        "train", "trainer=smoke", *CPU, "strategy=model_parallel", "trainer.devices=2",
        "model=mlp", "model.batch_norm=false", "augmentation=none", "hydra.run.dir=run",
        cwd=tmp_path,
    )  # fmt: skip
    assert train.returncode == 0, train.stderr
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["model/parameters"] == 64 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10
    # rank 0 gathered the split layers into one ordinary checkpoint that one process can test
    checkpoint = tmp_path / "run" / "checkpoints" / "best.ckpt"
    shapes = {k: tuple(v.shape) for k, v in _weights(checkpoint).items()}
    assert shapes["model.1.weight"] == (256, 64)  # whole, not a half
    evaluated = trainrig_cli("eval", f"ckpt_path={checkpoint}", *CPU, "hydra.run.dir=eval",
                             "trainer.limit_test_batches=2", cwd=tmp_path)  # fmt: skip
    assert evaluated.returncode == 0, evaluated.stderr
    tested = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert tested["test/acc"] == pytest.approx(metrics["test/acc"], abs=1e-6)


@pytest.mark.slow
def test_ddp_spawn_starts_its_processes_from_this_one(
    trainrig_cli: CliRunner, tmp_path: Path
) -> None:
    args = ["trainer=smoke", *CPU, "strategy=ddp_spawn", "trainer.devices=2", "hydra.run.dir=run"]
    result = trainrig_cli("train", *args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Starting with 2 processes" in result.stdout + result.stderr
    assert not list((tmp_path / "run").glob("*ddp_process_1.log"))  # no command was re-run
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["test/acc"] >= 0.0


@pytest.mark.slow
def test_a_users_lightning_module_trains_under_ddp_from_its_project(
    trainrig_cli: CliRunner, tmp_path: Path
) -> None:
    """Each rank re-runs the command in the project's directory, imports the project's module
    there, and gets the config's optimizer (a partial that pickles) as rank 0 does."""
    shutil.copytree(Path(__file__).parent / "user_code", tmp_path / "user_code")
    args = [
        "trainer=smoke", *CPU, "strategy=ddp", "trainer.devices=2", "hydra.run.dir=run",
        "task=lightning_module", "~model", "+model={_target_:user_code.modules.LinearModule}",
        "~data", "+data={_target_:user_code.modules.Blobs}",
    ]  # fmt: skip
    result = trainrig_cli("train", *args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert list((tmp_path / "run").glob("*rank_1*.log")) or "2 processes" in (
        result.stdout + result.stderr
    )
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert {"val/loss", "val/hits", "test/hits"} <= set(metrics)


def test_a_ddp_rank_destroys_its_gloo_group_before_the_interpreter_tears_down() -> None:
    """Left to the teardown, gloo's threads abort a spawned rank now and then (SIGABRT)."""
    config = Path(__file__).parents[1] / "conf/strategy/ddp_spawn.yaml"
    script = RANK_EXITING.format(config=config)
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "backend: gloo" in done.stdout
    assert "group alive at exit's end: False" in done.stdout
