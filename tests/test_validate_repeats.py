"""Validating one config per sweep trial: nodes that passed before are not checked again, every
changed or bad node is."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from omegaconf import DictConfig

from trainrig.config.errors import ConfigError
from trainrig.config.node_check import _check_node_once
from trainrig.config.validate import validate

Compose = Callable[..., DictConfig]


def test_a_trial_that_changes_one_node_rechecks_only_that_node(compose_train: Compose) -> None:
    first = validate(compose_train("optimizer.lr=0.01"))
    _check_node_once.cache_clear()
    validate(compose_train("optimizer.lr=0.01"))
    checked = _check_node_once.cache_info().misses
    again = validate(compose_train("optimizer.lr=0.02"))
    assert _check_node_once.cache_info().misses == checked + 1  # only `optimizer` is new
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
