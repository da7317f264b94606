"""Random overrides through the config layer (Hydra's compose, then trainrig's validation): every
outcome is a valid config or an error the CLI reports as bad input, never another exception."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hydra import compose, initialize_config_dir
from hydra.errors import HydraException
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException
from yaml import YAMLError

from trainrig.config.errors import ConfigError
from trainrig.config.hydra_errors import bad_group_value, override_below_list, override_below_null
from trainrig.config.resolvers import register_resolvers
from trainrig.config.target_allowlist import OPT_IN, check_targets_resolve
from trainrig.config.tree import BUILTIN_CONF_DIR, iter_options
from trainrig.config.validate import validate

# What cli._report turns into one `trainrig: error:` line and exit status 2 (and, below, the
# AssertionError, ValueError and TypeError that override_below_null, override_below_list and
# bad_group_value recognize).
BAD_INPUT_ERRORS = (ConfigError, HydraException, OmegaConfBaseException, YAMLError)
PROPERTY_SETTINGS = settings(
    max_examples=120,
    deadline=None,
    derandomize=True,  # the same examples on every run, so CI is stable
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _leaf_keys() -> list[str]:
    """Every dotted key of the default `train` config, the keys a user would override."""
    register_resolvers()
    with initialize_config_dir(config_dir=str(BUILTIN_CONF_DIR), version_base="1.3"):
        flat = OmegaConf.to_container(compose(config_name="train"), resolve=False)
    keys: list[str] = []

    def walk(node: Any, prefix: str) -> None:
        if isinstance(node, dict) and node:
            for key, value in node.items():
                walk(value, f"{prefix}{key}.")
        else:
            keys.append(prefix.rstrip("."))

    walk(flat, "")
    return keys


REAL_KEYS = _leaf_keys()
GROUP_OPTIONS = sorted({(option.group, option.name) for option in iter_options()})

garbage_keys = st.text(alphabet="abcxyz_.0123456789/", min_size=1, max_size=12)
keys = st.one_of(st.sampled_from(REAL_KEYS), garbage_keys, st.sampled_from(REAL_KEYS).map(
    lambda key: f"{key}.{'nested'}"
))  # fmt: skip
special_text = st.text(alphabet="ab ,()[]{}$'\"=:\\~+-#@*%\n\t", max_size=10)
scalars = st.one_of(
    st.integers(min_value=-(10**12), max_value=10**12).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(
        lambda x: (
            "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf") if math.isinf(x) else repr(x)
        )
    ),
    st.sampled_from(["null", "true", "false", "abc", "''", "[]", "{}", "${seed}", "${nope}"]),
    special_text,
    special_text.map(lambda text: "'" + text.replace("'", "") + "'"),
)
values = st.one_of(
    scalars, st.lists(scalars, max_size=3).map(lambda items: "[" + ",".join(items) + "]")
)
key_overrides = st.tuples(st.sampled_from(["", "+", "++", "~"]), keys, values).map(
    lambda parts: f"{parts[0]}{parts[1]}" if parts[0] == "~" else f"{parts[0]}{parts[1]}={parts[2]}"
)
group_overrides = st.one_of(
    st.sampled_from(GROUP_OPTIONS).map(lambda option: f"{option[0]}={option[1]}"),
    st.tuples(st.sampled_from([group for group, _ in GROUP_OPTIONS]), garbage_keys).map(
        lambda option: f"{option[0]}={option[1]}"
    ),
)
raw_overrides = st.text(alphabet="abmodel.=+~,()[]{}$'\"01 ", max_size=16)
override_lists = st.lists(st.one_of(key_overrides, group_overrides, raw_overrides), max_size=4)


def _check(overrides: list[str]) -> None:
    """Compose and validate as `trainrig train` does; only bad-input errors may come out."""
    try:
        values = validate(compose(config_name="train", overrides=overrides), "train")
        check_targets_resolve(values, values.get(OPT_IN) is True)
    except BAD_INPUT_ERRORS:
        return
    except (AssertionError, ValueError, TypeError) as error:  # told as bad input
        assert override_below_null(error) or override_below_list(error) or bad_group_value(error), (
            error
        )


@pytest.fixture(scope="module", autouse=True)
def _hydra() -> Iterator[None]:
    """Hydra initialized once for every example: `compose` as `trainrig train` composes."""
    register_resolvers()
    with initialize_config_dir(config_dir=str(BUILTIN_CONF_DIR), version_base="1.3"):
        yield


@pytest.fixture(autouse=True)
def _in_repo(in_repo: Path) -> None:
    """Composed from the repository root, as the other config tests are."""


@PROPERTY_SETTINGS
@given(override_lists)
@example(["optimizer.lr=inf"])
@example(["hydra.sweeper.params.optimizer.lr='interval(1'"])
@example(["optimizer.lr=${nope}"])
@example(["data.val_fraction=nan", "data.test_fraction=-inf"])
@example(["augmentation=0"])
@example(["hydra.sweeper.params.optimizer.lr=1"])
@example(["data._target_=[]"])
def test_random_overrides_give_a_config_or_a_clean_error(overrides: list[str]) -> None:
    _check(overrides)


@PROPERTY_SETTINGS
@given(st.sampled_from(REAL_KEYS), values)
def test_any_value_for_a_real_key_gives_a_config_or_a_clean_error(key: str, value: str) -> None:
    _check([f"{key}={value}"])
