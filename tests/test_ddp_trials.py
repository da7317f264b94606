"""DDP in a run and in a sweep trial, on CPU over gloo: other ranks rerun this job, not the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import optuna
import pytest

from .conftest import CliRunner

DDP = ["trainer=smoke", "strategy=ddp", "trainer.accelerator=cpu", "trainer.devices=2"]


@pytest.mark.slow
def test_a_ddp_run_writes_one_run_directory_once(trainrig_cli: CliRunner, tmp_path: Path) -> None:
    result = trainrig_cli("train", *DDP, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (run,) = (tmp_path / "outputs" / "train" / "runs").iterdir()  # rank 1 made no directory
    assert (run / "train_ddp_process_1.log").is_file()  # rank 1 ran in this run's directory
    assert json.loads((run / "metrics.json").read_text())["test/acc"] >= 0.0
    assert result.stdout.count("Final metrics") == 1  # only rank 0 reports


@pytest.mark.slow
def test_a_sweep_trial_running_ddp_gets_its_parameters_on_every_rank_and_reports_once(
    trainrig_cli: CliRunner, tmp_path: Path
) -> None:
    result = trainrig_cli(
        "train", "-m", "hydra/sweeper=optuna", "hydra/sweeper/sampler=grid",
        "hydra/sweeper/pruner=median", "hydra.sweeper.direction=maximize", "hydra.sweep.dir=sweep",
        "hydra.sweeper.n_trials=2", "model=cnn,mlp", *DDP, cwd=tmp_path,
    )  # fmt: skip
    # cnn on one rank and mlp on the other would fail DDP's parameter-shape check across ranks
    assert result.returncode == 0, result.stderr
    study = optuna.load_study(study_name="trainrig", storage=f"sqlite:///{tmp_path}/sweep/study.db")
    assert sorted(t.params["model"] for t in study.trials) == ["cnn", "mlp"]
    for trial in study.trials:
        assert trial.state == optuna.trial.TrialState.COMPLETE
        assert sorted(trial.intermediate_values) == [0, 1]  # once per epoch, not once per rank
        job = tmp_path / "sweep" / str(trial.number)
        assert (job / "metrics.json").is_file() and (job / "train_ddp_process_1.log").is_file()
    assert not (tmp_path / "outputs").exists()  # no rank started a run of its own
    assert not (tmp_path / "sweep" / "sweep").exists()  # nor a sweep
