"""The sweep grammar's edge cases (sweeps/search_space.py): grids, pins, nulls, the legacy form."""

from __future__ import annotations

import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from trainrig.config.errors import ConfigError
from trainrig.sweeps.search_space import dotted_keys, legacy_search_space, search_space


def test_finite_sweeps_give_the_grid_and_intervals_do_not() -> None:
    space = search_space(
        {"a": "range(1, 7, 2)", "b": "x,y", "c": "interval(0.0, 1.0)", "d": "range(0.5, 1.6, 0.5)"},
        [],
    )
    assert space.grid == {"a": [1, 3, 5], "b": ["x", "y"], "d": [0.5, 1.0, 1.5]}
    assert space.distributions["d"] == FloatDistribution(0.5, 1.5, step=0.5)
    assert space.fixed == []


def test_log_tags_and_integer_intervals() -> None:
    space = search_space({"n": "tag(log, int(interval(1, 64)))", "r": "tag(log, range(1, 9))"}, [])
    assert space.distributions == {
        "n": IntDistribution(1, 64, log=True),
        "r": IntDistribution(1, 8, log=True),
    }


def test_a_shuffled_range_is_categorical_in_sorted_order() -> None:
    space = search_space({"k": "shuffle(range(1, 4))"}, [])
    assert space.distributions == {"k": CategoricalDistribution([1, 2, 3])}
    assert space.grid == {"k": [1, 2, 3]}


def test_a_later_fixed_value_pins_a_swept_key_and_a_later_sweep_replaces_it() -> None:
    space = search_space(
        {"optimizer": {"lr": "interval(0.1, 0.5)"}, "seed": 1}, ["optimizer.lr=0.3"]
    )
    assert space.distributions == {}
    assert space.grid == {}
    assert space.fixed == ["seed=1", "optimizer.lr=0.3"]
    space = search_space({"seed": 1, "model": "cnn,mlp"}, ["seed=2,3", "+model=mlp"])
    assert space.distributions == {"seed": CategoricalDistribution([2, 3])}
    assert space.grid == {"seed": [2, 3]}  # the pinned model's choices left the grid too
    assert space.fixed == ["+model=mlp"]


def test_only_a_leading_plus_or_tilde_makes_two_names_one_key() -> None:
    space = search_space({"Xa": "1,2", "a": "3,4", "b": "5,6"}, ["~b"])
    assert list(space.distributions) == ["Xa", "a"]
    assert space.fixed == ["~b"]
    space = search_space({"a": "3,4", "Xa": "1,2"}, [])  # the later name is stripped too
    assert list(space.distributions) == ["a", "Xa"]


def test_a_null_key_is_no_part_of_the_search() -> None:
    space = search_space({"model": None, "seed": "1,2"}, [])
    assert list(space.distributions) == ["seed"]
    assert space.fixed == []


def test_an_empty_range_and_a_non_sweep_are_config_errors() -> None:
    with pytest.raises(ConfigError, match=r"^k: k=range\(3, 3\) holds no values$"):
        search_space({"k": "range(3, 3)"}, [])
    with pytest.raises(ConfigError, match=r"cannot parse 'k=choice\(' .*; write interval"):
        search_space({"k": "choice("}, [])
    with pytest.raises(ConfigError) as unparsable:
        search_space({"k": "interval(0.1"}, [])
    # the first line of Hydra's message says why; its last only points to Hydra's docs
    assert "(no viable alternative at input 'interval(0.1'); " in str(unparsable.value)


def test_nested_params_become_dotted_keys() -> None:
    nested = {"optimizer": {"lr": 1, "adam": {"beta": 2}}, "seed": 3}
    assert dotted_keys(nested) == {"optimizer.lr": 1, "optimizer.adam.beta": 2, "seed": 3}


def test_the_legacy_search_space_form() -> None:
    built = legacy_search_space(
        {
            "model": {"type": "categorical", "choices": ["cnn", "mlp"]},
            "layers": {"type": "int", "low": 1, "high": 4},
            "width": {"type": "int", "low": 8, "high": 64, "step": 8},
            "lr": {"type": "float", "low": 1e-4, "high": 1e-1, "log": True},
            "p": {"type": "float", "low": 0.0, "high": 0.5, "step": 0.1},
        }
    )
    assert built == {
        "model": CategoricalDistribution(["cnn", "mlp"]),
        "layers": IntDistribution(1, 4),
        "width": IntDistribution(8, 64, step=8),
        "lr": FloatDistribution(1e-4, 1e-1, log=True),
        "p": FloatDistribution(0.0, 0.5, step=0.1),
    }
    with pytest.raises(ConfigError, match=r"search_space\.x: type must be .* got 'uniform'; "):
        legacy_search_space({"x": {"type": "uniform"}})
    with pytest.raises(ConfigError, match=r"search_space\.y: .* got None"):
        legacy_search_space({"y": 0.5})
