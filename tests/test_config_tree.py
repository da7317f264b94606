"""Layer 1: every option of every config group, and every experiment, composes and validates."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig, OmegaConf

from trainrig.config.errors import ConfigError
from trainrig.config.resolvers import register_resolvers
from trainrig.config.tree import BUILTIN_CONF_DIR, group_names, iter_options
from trainrig.config.validate import validate

from .conftest import REPO_ROOT

EVAL_GROUPS = {"trainer", "logger"}


def _all_options() -> list[tuple[str, str]]:
    import os

    cwd = os.getcwd()
    os.chdir(REPO_ROOT)
    try:
        return [(o.group, o.name) for o in iter_options()]
    finally:
        os.chdir(cwd)


ALL_OPTIONS = _all_options()


def test_walk_finds_every_group_and_the_committed_experiments() -> None:
    groups = {group for group, _ in ALL_OPTIONS}
    expected = {
        "data",
        "augmentation",
        "model",
        "optimizer",
        "scheduler",
        "early_stopping",
        "trainer",
        "logger",
        "compression",
        "strategy",
        "experiment",
        "callbacks",
        "debug",
    }
    assert expected <= groups
    experiments = {name for group, name in ALL_OPTIONS if group == "experiment"}
    assert {"baseline", "digits_mlp_sgd"} <= experiments
    assert ("compression", "none") in ALL_OPTIONS
    assert ("strategy", "auto") in ALL_OPTIONS


# Options that need one of several keys set (the teacher: a checkpoint or an experiment).
NEEDS = {("compression", "distill"): ["compression.teacher_ckpt=teacher.ckpt"]}
# Options of an extra that the dev install leaves out: without it, validation names the extra.
EXTRAS = {("strategy", "deepspeed"): "deepspeed"}


@pytest.mark.parametrize(("group", "name"), ALL_OPTIONS, ids=[f"{g}={n}" for g, n in ALL_OPTIONS])
def test_option_composes_and_validates(
    group: str, name: str, compose_train: Callable[..., DictConfig]
) -> None:
    cfg = compose_train(f"{group}={name}", *NEEDS.get((group, name), []))
    extra = EXTRAS.get((group, name))
    if extra and importlib.util.find_spec(extra) is None:
        with pytest.raises(ConfigError, match=rf"pip install 'trainrig\[{extra}\]'"):
            validate(cfg, "train")
        return
    required = [f"{key}=placeholder" for key in OmegaConf.missing_keys(cfg)]  # data.path=???
    if required:
        with pytest.raises(ConfigError, match="a value is required"):
            validate(cfg, "train")
        cfg = compose_train(f"{group}={name}", *NEEDS.get((group, name), []), *required)
    values = validate(cfg, "train")
    if group not in ("experiment", "sweep", "debug"):  # global packages; others: under the group
        option = next(o for o in iter_options(group) if o.name == name)
        own = OmegaConf.to_container(OmegaConf.load(option.path)) or {}
        if "@package _global_" in option.path.read_text():  # task=lightning_module
            own = own.get(group, {})  # type: ignore[union-attr]
        assert set(own) - {"defaults"} <= set(values[group])
    if group in EVAL_GROUPS:
        validate(compose_train(f"{group}={name}", "ckpt_path=x.ckpt", config_name="eval"), "eval")


@pytest.mark.parametrize(("group", "name"), ALL_OPTIONS, ids=[f"{g}={n}" for g, n in ALL_OPTIONS])
def test_option_has_a_one_line_description(group: str, name: str, in_repo: Path) -> None:
    option = next(o for o in iter_options(group) if o.name == name)
    assert 10 <= len(option.description) <= 160, option.path


def test_builtin_options_are_the_repositorys_top_level_conf_in_an_editable_install() -> None:
    assert Path(__file__).resolve().parents[1] / "conf" == BUILTIN_CONF_DIR
    assert (BUILTIN_CONF_DIR / "train.yaml").is_file()


def test_user_conf_and_experiments_extend_the_builtin_options(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "conf" / "model").mkdir(parents=True)
    (tmp_path / "conf" / "model" / "wide_cnn.yaml").write_text(
        "# A wider CNN.\n_target_: trainrig.models.cnn.build_cnn\n_partial_: true\n"
        "channels: [64, 128]\nkernel_size: 3\nbatch_norm: true\ndropout: 0.0\n"
    )
    (tmp_path / "experiments").mkdir()
    (tmp_path / "experiments" / "mine.yaml").write_text(
        "# @package _global_\n# My experiment.\ndefaults:\n  - override /model: wide_cnn\nseed: 7\n"
    )
    monkeypatch.chdir(tmp_path)
    register_resolvers()
    with initialize_config_dir(config_dir=str(BUILTIN_CONF_DIR), version_base="1.3"):
        cfg = compose(config_name="train", overrides=["experiment=mine"])
    values = validate(cfg, "train")
    assert values["model"]["channels"] == [64, 128]
    assert values["seed"] == 7
    listed = {(o.group, o.name, o.source) for o in iter_options()}
    assert ("model", "wide_cnn", "conf") in listed
    assert ("experiment", "mine", "experiments") in listed


def test_the_repository_root_lists_and_searches_the_builtin_options_once(in_repo: Path) -> None:
    """From trainrig's own checkout, ./conf is the built-in folder: not a second, user source."""
    from hydra.core.global_hydra import GlobalHydra

    options = [(o.group, o.name) for o in iter_options()]
    assert options.count(("model", "cnn")) == 1
    assert {o.source for o in iter_options("model")} == {"built-in"}
    with initialize_config_dir(config_dir=str(BUILTIN_CONF_DIR), version_base="1.3"):
        sources = [s.path for s in GlobalHydra.instance().config_loader().get_sources()]
    assert sum(str(BUILTIN_CONF_DIR) in s for s in sources) == 1, sources


def test_trainer_smoke_keeps_its_limits_over_an_experiments_trainer_keys(
    compose_train: Callable[..., DictConfig],
) -> None:
    """digits_mlp_sgd sets trainer.max_epochs=60; the explicit trainer=smoke still runs 2."""
    assert compose_train("experiment=digits_mlp_sgd").trainer.max_epochs == 60
    smoke = compose_train("experiment=digits_mlp_sgd", "trainer=smoke").trainer
    assert (smoke.max_epochs, smoke.limit_train_batches, smoke.accelerator) == (2, 3, "cpu")
    longer = compose_train("experiment=digits_mlp_sgd", "trainer=smoke", "trainer.max_epochs=4")
    assert longer.trainer.max_epochs == 4  # a key given on the command line wins over both
    assert "trainer/after_experiment" not in group_names()  # not an option a user picks
