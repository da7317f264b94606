"""Validating one config per sweep trial: nodes that passed before are not checked again, every
changed or bad node is; the runner's builders do not check again what `validate` passed.

The count of checks run is read by wrapping the private `node_check._check` (a spy that calls
it): how often it runs is what these tests are about, and no public figure tells it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from trainrig.config import node_check
from trainrig.config.errors import ConfigError
from trainrig.config.validate import validate

Compose = Callable[..., DictConfig]


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The path of every node check that really runs from now on."""
    ran: list[str] = []
    real = node_check._check

    def spy(path: str, node: dict[str, Any], schema: type) -> None:
        ran.append(path)
        real(path, node, schema)

    monkeypatch.setattr(node_check, "_check", spy)
    monkeypatch.setattr(node_check, "_PASSED", {})  # what other tests validated is forgotten
    return ran


def test_a_trial_that_changes_one_node_rechecks_only_that_node(
    compose_train: Compose, checks: list[str]
) -> None:
    first = validate(compose_train("optimizer.lr=0.01"))
    validate(compose_train("optimizer.lr=0.01"))
    checked = len(checks)
    again = validate(compose_train("optimizer.lr=0.02"))
    assert checks[checked:] == ["optimizer"]  # only `optimizer` is new
    assert again["optimizer"]["lr"] == 0.02
    assert {k: v for k, v in again.items() if k != "optimizer"} == {
        k: v for k, v in first.items() if k != "optimizer"
    }


def test_a_bad_node_fails_every_time_even_after_a_good_one(compose_train: Compose) -> None:
    validate(compose_train("optimizer.lr=0.01"))
    for _ in range(2):
        with pytest.raises(ConfigError, match=r"optimizer\.lr: must be > 0, got -1\.0"):
            validate(compose_train("optimizer.lr=-1"))


def test_values_equal_in_python_but_not_in_type_are_each_checked(compose_train: Compose) -> None:
    validate(compose_train("trainer.max_epochs=2"))  # 2 == 2.0 in Python, but not as a config
    with pytest.raises(ConfigError, match=r"trainer\.max_epochs: expected int, got 2\.0"):
        validate(compose_train("trainer.max_epochs=2.0"))


def test_the_runner_s_builder_call_does_not_check_a_validated_node_again(
    compose_train: Compose, checks: list[str]
) -> None:
    cfg = OmegaConf.create(validate(compose_train("optimizer.lr=0.0123", "model=mlp")))
    before = len(checks)
    model = instantiate(cfg.model)((1, 8, 8), 10)  # as the runner builds them
    optimizer = instantiate(cfg.optimizer)(model)
    assert optimizer.param_groups[0]["lr"] == 0.0123
    assert checks[before:] == []
    with pytest.raises(ConfigError, match=r"optimizer: lr: must be > 0|lr: must be > 0"):
        instantiate(cfg.optimizer, lr=-1.0)(model)  # new arguments are checked
