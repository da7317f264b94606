"""The study's directions: derived from trainrig's `optimized_metric` (never a silent minimize of
an accuracy), refused when they contradict `checkpoint.mode`; from `direction` in other apps."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from omegaconf import DictConfig

from trainrig.config.errors import ConfigError
from trainrig.sweeps.directions import app_objectives, trainrig_objectives

from .conftest import CliRunner

Compose = Callable[..., DictConfig]


def test_a_missing_direction_follows_checkpoint_mode(compose_train: Compose) -> None:
    config = compose_train()  # optimized_metric val/acc, checkpoint val/acc max
    assert trainrig_objectives(None, config) == (["val/acc"], ["maximize"])
    low = compose_train(
        "optimized_metric=val/loss", "checkpoint.monitor=val/loss", "checkpoint.mode=min"
    )
    assert trainrig_objectives(None, low) == (["val/loss"], ["minimize"])


def test_a_missing_direction_of_an_unmonitored_metric_follows_its_name(
    compose_train: Compose,
) -> None:
    config = compose_train("optimized_metric=[val/acc,model/parameters]")
    assert trainrig_objectives(None, config)[1] == ["maximize", "minimize"]
    assert trainrig_objectives(None, compose_train("optimized_metric=val/loss"))[1] == ["minimize"]


def test_a_regression_metric_sets_the_direction_it_is_better_in(compose_train: Compose) -> None:
    regression = ("task=regression", "data=diabetes", "model=mlp", "augmentation=none")
    assert trainrig_objectives(None, compose_train(*regression)) == (["val/mse"], ["minimize"])
    r2 = compose_train(*regression, "optimized_metric=[test/r2,test/mae]")
    assert trainrig_objectives(None, r2)[1] == ["maximize", "minimize"]


def test_a_users_own_metric_needs_the_direction_stated(compose_train: Compose) -> None:
    config = compose_train("task=lightning_module", "optimized_metric=test/hits")
    with pytest.raises(ConfigError, match="cannot know whether test/hits is better high or low"):
        trainrig_objectives(None, config)
    assert trainrig_objectives("maximize", config) == (["test/hits"], ["maximize"])


def test_a_direction_against_checkpoint_mode_is_refused(compose_train: Compose) -> None:
    with pytest.raises(
        ConfigError,
        match=r"direction is minimize for val/acc, but checkpoint\.monitor=val/acc \(mode max\)",
    ):
        trainrig_objectives("minimize", compose_train())
    with pytest.raises(ConfigError, match="does not fit"):
        trainrig_objectives(["maximize", "minimize"], compose_train())


def test_a_direction_the_metric_name_does_not_suggest_is_the_users_call(
    compose_train: Compose,
) -> None:
    config = compose_train("optimized_metric=val/error")  # lower is better, the name can't say
    assert trainrig_objectives("minimize", config)[1] == ["minimize"]


def test_another_apps_objectives_come_from_direction() -> None:
    assert app_objectives(None) == (["objective"], ["minimize"])
    assert app_objectives(["minimize", "maximize"])[1] == ["minimize", "maximize"]
    with pytest.raises(ConfigError, match=r"hydra\.sweeper\.direction"):
        app_objectives("upward")


def test_a_sweep_that_would_minimize_accuracy_stops_before_any_trial(
    trainrig_cli: CliRunner, tmp_path: Path
) -> None:
    result = trainrig_cli(
        "train", "-m", "hydra/sweeper=optuna", "hydra.sweeper.direction=minimize",
        "hydra.sweep.dir=sweep", "trainer=smoke", "optimizer.lr=interval(0.01,0.1)", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert "checkpoint.monitor=val/acc (mode max)" in result.stderr
    assert not (tmp_path / "sweep" / "0").exists()
