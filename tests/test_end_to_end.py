"""End-to-end `trainrig` runs on the real digits data: train, eval, multirun, experiments."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

from .conftest import REPO_ROOT, CliRunner

FINAL_METRICS = {"test/acc", "test/loss", "val/acc", "val/loss", "model/parameters"}
# What a run with a `compression` option adds: the compressed model's figures.
COMPRESSION_METRICS = {
    "compression/parameters", "compression/nonzero_parameters", "compression/sparsity",
    "compression/dense_bytes", "compression/compressed_bytes", "compression/macs_per_sample",
    "compression/cpu_latency_ms_batch1", "compression/cpu_latency_ms_per_batch",
    "compression/test_acc",
}  # fmt: skip


def _single_run_dir(root: Path) -> Path:
    runs = sorted((root / "outputs" / "train" / "runs").iterdir())
    assert len(runs) == 1, runs
    return runs[0]


def _metrics(run_dir: Path) -> dict[str, float]:
    return json.loads((run_dir / "metrics.json").read_text())  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def smoke_run(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """One fast run of the default experiment, shared by the tests that inspect it."""
    from .conftest import run_trainrig

    cwd = tmp_path_factory.mktemp("smoke")
    result = run_trainrig("train", "trainer=smoke", cwd=cwd)
    assert result.returncode == 0, result.stderr
    return _single_run_dir(cwd), result


def test_run_directory_holds_the_promised_files(
    smoke_run: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    run_dir, _ = smoke_run
    for name in (
        "config.yaml",
        "metrics.json",
        "normalization.json",
        "checkpoints/best.ckpt",
        "checkpoints/last.ckpt",
    ):
        assert (run_dir / name).is_file(), name
    assert (run_dir / "csv" / "metrics.csv").read_text().startswith("epoch,")
    assert set(_metrics(run_dir)) == FINAL_METRICS
    config_text = (run_dir / "config.yaml").read_text()
    assert "${" not in config_text  # resolved
    assert yaml.safe_load(config_text)["data"]["split_seed"] == 42


def test_best_and_last_of_the_same_epoch_are_one_file(
    smoke_run: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    """The smoke run's last epoch improves, so last.ckpt is a hard link to best.ckpt, whole."""
    folder = smoke_run[0] / "checkpoints"
    best = torch.load(folder / "best.ckpt", weights_only=True)
    last = torch.load(folder / "last.ckpt", weights_only=True)
    assert best["global_step"] == last["global_step"]
    assert (folder / "best.ckpt").stat().st_ino == (folder / "last.ckpt").stat().st_ino
    assert {"optimizer_states", "loops", "callbacks"} <= set(last)


def test_run_prints_a_summary_with_metrics_and_run_directory(
    smoke_run: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    run_dir, result = smoke_run
    assert "digits: {'train': 1257, 'val': 270, 'test': 270} samples" in result.stdout
    assert "Final metrics" in result.stdout
    assert "test/acc" in result.stdout
    assert "Run directory:" in result.stdout
    assert run_dir.name in result.stdout.replace("\n", "")


def test_checkpoint_carries_its_config_and_loads_safely(
    smoke_run: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    run_dir, _ = smoke_run
    checkpoint = torch.load(run_dir / "checkpoints" / "best.ckpt", weights_only=True)
    assert checkpoint["trainrig_config"]["model"]["_target_"] == "trainrig.models.cnn.build_cnn"


def test_validation_metrics_are_those_of_validating_the_best_checkpoint_again(
    smoke_run: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    """The runner reads them from best.ckpt (stored when it was saved) instead of validating."""
    import pytorch_lightning as pl

    from trainrig.rundir.checkpoints import load_config_from_checkpoint, load_fitting_weights
    from trainrig.training.build import build_data, build_module

    run_dir, _ = smoke_run
    best = run_dir / "checkpoints" / "best.ckpt"
    stored = torch.load(best, weights_only=True)["trainrig_validation_metrics"]
    assert set(stored) == {"val/acc", "val/loss"}
    cfg = load_config_from_checkpoint(best)
    pl.seed_everything(cfg.seed, verbose=False)
    data = build_data(cfg)
    classifier = build_module(cfg, data)
    load_fitting_weights(classifier, best)
    trainer = pl.Trainer(
        accelerator="cpu",
        limit_val_batches=cfg.trainer.limit_val_batches,
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    validated = trainer.validate(classifier, datamodule=data, verbose=False)[0]
    trained = _metrics(run_dir)
    assert trained["val/acc"] == stored["val/acc"] == pytest.approx(validated["val/acc"], abs=1e-6)
    assert trained["val/loss"] == stored["val/loss"]
    assert stored["val/loss"] == pytest.approx(validated["val/loss"], rel=1e-5)


def test_eval_reproduces_the_test_metrics_of_the_best_checkpoint(
    smoke_run: tuple[Path, subprocess.CompletedProcess[str]],
    trainrig_cli: CliRunner,
    tmp_path: Path,
) -> None:
    run_dir, _ = smoke_run
    best = run_dir / "checkpoints" / "best.ckpt"
    result = trainrig_cli("eval", f"ckpt_path={best}", "trainer=smoke", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    eval_dirs = list((tmp_path / "outputs" / "eval" / "runs").iterdir())
    assert len(eval_dirs) == 1
    evaluated = _metrics(eval_dirs[0])
    trained = _metrics(run_dir)
    assert evaluated["test/acc"] == pytest.approx(trained["test/acc"], abs=1e-6)
    assert evaluated["test/loss"] == pytest.approx(trained["test/loss"], rel=1e-5)


def test_multirun_grid_of_two_jobs(trainrig_cli: CliRunner, tmp_path: Path) -> None:
    result = trainrig_cli("train", "-m", "model=cnn,mlp", "trainer=smoke", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (sweep_dir,) = (tmp_path / "outputs" / "train" / "multiruns").iterdir()
    jobs = sorted(p for p in sweep_dir.iterdir() if p.is_dir() and p.name.isdigit())
    assert [p.name for p in jobs] == ["0", "1"]
    targets = [yaml.safe_load((p / "config.yaml").read_text())["model"]["_target_"] for p in jobs]
    assert targets == ["trainrig.models.cnn.build_cnn", "trainrig.models.mlp.build_mlp"]
    for job in jobs:
        assert set(_metrics(job)) == FINAL_METRICS


def test_jobs_started_together_get_their_own_directories(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "trainrig", "train", "trainer=smoke", "trainer.max_epochs=1"]
    procs = [
        subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for _ in range(3)
    ]
    for proc in procs:
        assert proc.wait(timeout=300) == 0
    runs = list((tmp_path / "outputs" / "train" / "runs").iterdir())
    assert len(runs) == 3
    assert all((run / "metrics.json").is_file() for run in runs)


@pytest.mark.parametrize(
    "experiment", sorted(p.stem for p in (REPO_ROOT / "experiments").glob("*.yaml"))
)
def test_every_committed_experiment_runs_in_fast_mode(
    experiment: str, trainrig_cli: CliRunner, tmp_path: Path
) -> None:
    shutil.copytree(REPO_ROOT / "experiments", tmp_path / "experiments")
    text = (tmp_path / "experiments" / f"{experiment}.yaml").read_text()
    if "sweep" not in text:
        result = trainrig_cli("train", f"experiment={experiment}", "trainer=smoke", cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        compressed = COMPRESSION_METRICS if "override /compression:" in text else set()
        expected = FINAL_METRICS | compressed
        if "override /task: regression" in text:  # loss, mse, mae, r2 on val and test
            metrics = [f"{stage}/{m}" for stage in ("val", "test") for m in ("mse", "mae", "r2")]
            expected = {n for n in expected if not n.endswith("/acc")} | set(metrics)
        assert set(_metrics(_single_run_dir(tmp_path))) == expected
        return
    fast = ["trainer=smoke", "hydra.sweeper.n_trials=2"]  # a sweep experiment: 2 trials
    result = trainrig_cli("train", f"experiment={experiment}", *fast, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    summary = json.loads(
        (tmp_path / "outputs" / "sweeps" / experiment / "summary.json").read_text()
    )
    assert summary["trials"] == {"COMPLETE": 2}


@pytest.mark.slow
def test_default_experiment_reaches_97_percent_test_accuracy(
    trainrig_cli: CliRunner, tmp_path: Path
) -> None:
    result = trainrig_cli("train", "trainer.enable_progress_bar=false", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert _metrics(_single_run_dir(tmp_path))["test/acc"] >= 0.97


def test_training_shows_a_progress_bar(trainrig_cli: CliRunner, tmp_path: Path) -> None:
    result = trainrig_cli(
        "train", "trainer=smoke", "trainer.enable_progress_bar=true", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    # the last frame of the last epoch; on 80 columns its metrics wrap onto the next lines
    frame = result.stdout[result.stdout.rindex("Epoch 1/1") :].split("Final metrics")[0]
    assert "3/3" in frame and "━" in frame and "val/loss" in frame and "left" in frame
