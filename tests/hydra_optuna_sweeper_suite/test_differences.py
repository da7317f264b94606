"""Where trainrig's search space deliberately differs from hydra-optuna-sweeper's, and the two
search-space bugs of issue 24 (a fixed value must pin a swept key; `shuffle(range(...))`).

The cases are the old plugin's own `test_create_optuna_distribution_from_override` table (v1.3.5
and main expect the same distributions), run through trainrig's public `search_space`.
"""

from __future__ import annotations

import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from trainrig.sweeps.search_space import search_space

SAME = [
    ("key=choice(1,2)", CategoricalDistribution([1, 2])),
    ("key=choice(true, false)", CategoricalDistribution([True, False])),
    ("key=choice('hello', 'world')", CategoricalDistribution(["hello", "world"])),
    ("key=shuffle(range(1,3))", CategoricalDistribution((1, 2))),
    ("key=interval(1, 5)", FloatDistribution(1, 5)),
    ("key=int(interval(1, 5))", IntDistribution(1, 5)),
    ("key=tag(log, interval(1, 5))", FloatDistribution(1, 5, log=True)),
    ("key=tag(log, int(interval(1, 5)))", IntDistribution(1, 5, log=True)),
]
# (override, the old plugin's distribution, trainrig's): range() excludes its stop in trainrig,
# as in Hydra's own grammar (`range(1,3)` sweeps 1 and 2 in a basic multirun); the old plugin
# included it.
RANGE = [
    ("key=range(1,3)", IntDistribution(1, 3), IntDistribution(1, 2)),
    (
        "key=range(0.5, 5.5, step=1)",
        FloatDistribution(0.5, 5.5, step=1),
        FloatDistribution(0.5, 4.5, step=1),
    ),
]


@pytest.mark.parametrize(("line", "expected"), SAME, ids=[c[0] for c in SAME])
def test_same_distribution_as_the_old_plugin(line: str, expected: object) -> None:
    assert search_space({}, [line]).distributions == {"key": expected}


@pytest.mark.parametrize(("line", "old", "trainrig"), RANGE, ids=[c[0] for c in RANGE])
def test_range_excludes_its_stop_unlike_the_old_plugin(
    line: str, old: object, trainrig: object
) -> None:
    assert search_space({}, [line]).distributions == {"key": trainrig} != {"key": old}


def test_a_fixed_value_on_the_command_line_pins_a_key_the_config_sweeps() -> None:
    params = {"x": "range(-5.5, 5.5, step=0.5)", "y": "choice(-5 ,0 ,5)"}
    space = search_space(params, ["x=choice(0, 1, 2)", "y=0"])
    assert space.distributions == {"x": CategoricalDistribution([0, 1, 2])}
    assert space.fixed == ["y=0"]
    assert space.grid == {"x": [0, 1, 2]}


def test_a_sweep_on_the_command_line_replaces_a_fixed_value_of_the_config() -> None:
    space = search_space({"y": 0}, ["y=choice(1, 2)"])
    assert space.distributions == {"y": CategoricalDistribution([1, 2])}
    assert space.fixed == []


def test_shuffle_of_a_range_is_every_value_of_the_range() -> None:
    # Before the fix its first and last shuffled values were taken as the bounds: about half the
    # runs raised `low <= high must hold`, the others could drop values.
    for _ in range(30):
        space = search_space({}, ["x=shuffle(range(1,4))"])
        assert space.distributions == {"x": CategoricalDistribution([1, 2, 3])}
        assert space.grid == {"x": [1, 2, 3]}
