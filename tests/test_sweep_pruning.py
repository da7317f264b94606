"""Optuna pruning through the sweeper: presets build, trials really get pruned, in any process."""

from __future__ import annotations

import json
from pathlib import Path

import optuna
import pytest
from hydra.utils import instantiate
from optuna.distributions import FloatDistribution
from optuna.trial import TrialState

from hydra_plugins.trainrig_optuna_sweeper.optuna_sweeper import PRUNERS, SAMPLERS
from trainrig.sweeps.pruning import STORAGE_ENV, trial_callback_override

from .conftest import CliRunner

SWEEP = [
    "-m", "hydra/sweeper=optuna", "hydra.sweeper.direction=maximize", "trainer=smoke",
    "hydra.sweep.dir=sweep", "hydra.sweeper.sampler.seed=1",
]  # fmt: skip


@pytest.mark.parametrize("name", sorted(PRUNERS))
def test_every_pruner_preset_builds_an_optuna_pruner(name: str) -> None:
    assert isinstance(instantiate(PRUNERS[name]), optuna.pruners.BasePruner)


@pytest.mark.parametrize("name", sorted(set(SAMPLERS) - {"grid"}))
def test_every_sampler_preset_names_an_optuna_sampler(name: str) -> None:
    sampler = instantiate({"_target_": f"optuna.samplers.{SAMPLERS[name]}", "seed": 0})
    assert isinstance(sampler, optuna.samplers.BaseSampler)


def _study(cwd: Path) -> optuna.Study:
    return optuna.load_study(study_name="trainrig", storage=f"sqlite:///{cwd}/sweep/study.db")


def test_median_pruner_stops_poor_trials_and_records_them_as_pruned(
    trainrig_cli: CliRunner, tmp_path: Path
) -> None:
    result = trainrig_cli(
        "train", *SWEEP, "hydra/sweeper/pruner=median", "hydra.sweeper.pruner.n_startup_trials=2",
        "hydra.sweeper.n_trials=8", "trainer.max_epochs=5",
        "optimizer.lr=tag(log,interval(1e-5,1e-1))", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    trials = _study(tmp_path).trials
    pruned = [t for t in trials if t.state == TrialState.PRUNED]
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    assert pruned and complete and len(pruned) + len(complete) == 8
    for trial in pruned:  # stopped early, with its last report as its value, never tested
        assert max(trial.intermediate_values) < 4
        assert trial.value == trial.intermediate_values[max(trial.intermediate_values)]
        assert not (tmp_path / "sweep" / str(trial.number) / "metrics.json").exists()
    for trial in complete:  # every epoch reported
        assert sorted(trial.intermediate_values) == [0, 1, 2, 3, 4]
    assert json.loads((tmp_path / "sweep" / "summary.json").read_text())["trials"]["PRUNED"] == (
        len(pruned)
    )


def test_a_training_in_another_process_reports_to_its_trial_and_is_pruned(
    trainrig_cli: CliRunner, tmp_path: Path
) -> None:
    """As on another machine: the trial is named in the job's overrides, the study is in a file."""
    storage = f"sqlite:///{tmp_path}/study.db"
    study = optuna.create_study(
        storage=storage, study_name="remote", direction="maximize",
        pruner=optuna.pruners.ThresholdPruner(lower=1.01),  # any accuracy is below: prune at once
    )  # fmt: skip
    trial = study.ask({"x": FloatDistribution(0, 1)})
    pruner = {"_target_": "optuna.pruners.ThresholdPruner", "lower": 1.01}
    result = trainrig_cli(
        "train", "trainer=smoke", "trainer.max_epochs=3",
        trial_callback_override(trial, pruner), cwd=tmp_path, env={STORAGE_ENV: storage},
    )  # fmt: skip
    assert result.returncode != 0
    assert "pruned after epoch 0" in result.stderr
    reported = study.trials[0].intermediate_values
    assert list(reported) == [0] and 0.0 <= reported[0] <= 1.0


def test_pruning_needs_the_monitored_metric_to_agree_with_the_direction(
    trainrig_cli: CliRunner, tmp_path: Path
) -> None:
    result = trainrig_cli(
        "train", *SWEEP, "hydra.sweeper.direction=minimize", "hydra/sweeper/pruner=hyperband",
        "optimizer.lr=interval(1e-3,1e-1)", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 2
    assert "checkpoint.monitor=val/acc (mode max)" in result.stderr
    assert "direction is minimize" in result.stderr
