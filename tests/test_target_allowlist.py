"""`_target_` may only name callables of trainrig and its libraries, of the user's project and of
the packages it trusts, unless the user opts in (the project's own: test_project_modules.py)."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.utils import get_object
from omegaconf import DictConfig, OmegaConf

from hydra_plugins.trainrig_optuna_sweeper.optuna_sweeper import PRUNERS, SAMPLERS
from trainrig.config.errors import ConfigError
from trainrig.config.resolvers import register_resolvers
from trainrig.config.target_allowlist import (
    check_callable_name,
    check_targets,
    check_targets_resolve,
    is_allowed,
    targets_in,
)
from trainrig.config.tree import BUILTIN_CONF_DIR, iter_options
from trainrig.sweeps.study_loop import check_sweeper_targets

from .conftest import CliRunner
from .test_bad_input import _assert_clean_rejection

# (target, allowed by its name alone)
BY_NAME = [
    ("trainrig.models.cnn.build_cnn", True),
    ("torch.optim.AdamW", True),
    ("torchvision.models.resnet18", True),
    ("kornia.augmentation.RandomCrop", True),
    ("pytorch_lightning.Trainer", True),
    ("lightning.pytorch.Trainer", True),
    ("torchmetrics.classification.MulticlassAccuracy", True),
    ("optuna.samplers.TPESampler", True),
    ("os.system", False),
    ("subprocess.run", False),
    ("builtins.eval", False),
    ("posix.system", False),
    ("torchvisionx.evil", False),  # a prefix of the name is not its module
    ("trainrig_plugins.evil", False),
    ("torch.load", False),  # code loaders of allowed libraries
    ("torch.hub.load", False),
    ("torch.utils.cpp_extension.load_inline", False),
    ("torch.ops.load_library", False),
    ("torch.serialization.load", False),
    ("torch.jit.load", False),
    ("torch.package.PackageImporter", False),
    ("torch.classes.load_library", False),
    ("torch._ops.ops.load_library", False),
    ("torch.loader", True),  # a prefix of a code loader's name is not the loader
    ("faulty_model.build", False),
]


@pytest.mark.parametrize(("target", "allowed"), BY_NAME, ids=[t for t, _ in BY_NAME])
def test_a_target_is_allowed_or_refused_by_its_name(
    target: str, allowed: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # in trainrig's checkout, trainrig is also the project's own code
    assert is_allowed(target) is allowed


def test_check_targets_refuses_by_name_with_the_key_and_the_ways_out() -> None:
    evil = {"model": {"head": {"_target_": "os.system"}}}
    with pytest.raises(ConfigError) as refused:
        check_targets(evil, allow_any=False, prefix="cfg")
    message = str(refused.value)
    assert message.startswith("cfg.model.head._target_: 'os.system' is not under trainrig's")
    assert "torch, torchvision, kornia" in message
    assert message.endswith("opt in with allow_any_target=true (only for configs you trust)")
    check_targets(evil, allow_any=True)  # the opt-in
    check_targets({"model": {"_target_": "torch.nn.ReLU", "size": None}}, allow_any=False)
    with pytest.raises(ConfigError, match=r"^m._target_: 'no_such_pkg_x.f': no module"):
        check_targets({"m": {"_target_": "no_such_pkg_x.f"}}, allow_any=False)


def test_check_targets_resolve_imports_outside_targets_only_with_the_opt_in() -> None:
    outside = {"m": {"_target_": "no_such_pkg_x.f"}}
    with pytest.raises(ConfigError, match=r"^m._target_: 'no_such_pkg_x.f': no module"):
        check_targets_resolve(outside, allow_any=True)
    with pytest.raises(ConfigError, match=r"^p.m._target_: 'no_such_pkg_x.f': no module"):
        check_targets_resolve(outside, allow_any=False, prefix="p")
    with pytest.raises(ConfigError, match=r"'torch.os.system' \(which is posix.system\)"):
        check_targets_resolve({"_target_": "torch.os.system"}, allow_any=False)
    check_targets_resolve({"_target_": "torch.os.system"}, allow_any=True)  # the user's call
    check_targets_resolve({"_target_": "torch.nn.NoSuchLayer"}, allow_any=False)  # instantiate says


# Names under an allowed module whose object lives elsewhere: refused once resolved.
RESOLVED_ELSEWHERE = [
    ("torch.os.system", "posix.system"),
    ("trainrig.cli.tasks.shutil.rmtree", "shutil.rmtree"),
    ("trainrig.cli.main.os.system", "posix.system"),
    ("torch.sys", "a module"),
    ("torch.backends.cudnn", "a module"),  # its type's __module__ names an allowed home
    ("torch.e", "an object that does not say where it lives"),  # a float
    ("torch.classes.foo", "a module"),  # one made on demand, which raises for __qualname__
]


@pytest.mark.parametrize(("target", "really"), RESOLVED_ELSEWHERE)
def test_a_name_under_an_allowed_module_is_checked_by_what_it_resolves_to(
    target: str, really: str
) -> None:
    assert is_allowed(target)
    with pytest.raises(ConfigError, match=f"'{target}' \\(which is {really}\\) is not under "):
        check_callable_name("x._target_", target)


def test_an_outside_name_is_refused_before_its_module_is_imported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project, elsewhere, marker = tmp_path / "project", tmp_path / "elsewhere", tmp_path / "ran"
    project.mkdir()
    elsewhere.mkdir()
    (elsewhere / "outside_space.py").write_text(
        f"open({str(marker)!r}, 'w').close()\ndef extend(c, t): ...\n"
    )
    monkeypatch.chdir(project)
    monkeypatch.syspath_prepend(str(elsewhere))
    with pytest.raises(ConfigError) as refused:
        check_callable_name("s", "outside_space.extend")
    assert str(refused.value).startswith("s: 'outside_space.extend' is not under trainrig's")
    assert not marker.exists()  # importing it would have run its code
    assert "outside_space" not in sys.modules


def test_a_name_that_does_not_import_logs_nothing_and_hydra_logs_again_after(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.DEBUG, logger="hydra.utils"):
        check_callable_name("x._target_", "torch.nn.NoSuchLayer")  # instantiate reports it
        assert [r for r in caplog.records if r.name == "hydra.utils"] == []
        with pytest.raises(ImportError):
            get_object("torch.nn.NoSuchLayer")  # Hydra's own error line is back
    assert [r.name for r in caplog.records] == ["hydra.utils"]


def test_allowed_targets_resolve_where_they_say() -> None:
    for target in ("trainrig.models.cnn.build_cnn", "torch.optim.AdamW", "torch.nn.ReLU"):
        check_callable_name("x._target_", target)


def test_targets_are_found_at_any_depth_with_their_full_key() -> None:
    config = {
        "model": {"_target_": "a.b", "head": {"_target_": "c.d"}},
        "logger": {"csv": {"_target_": "e.f"}},
        "callbacks": [{"_target_": "g.h"}, {"nested": [{"_target_": "i.j"}]}],
    }
    assert list(targets_in(config)) == [
        ("model._target_", "a.b"),
        ("model.head._target_", "c.d"),
        ("logger.csv._target_", "e.f"),
        ("callbacks[0]._target_", "g.h"),
        ("callbacks[1].nested[0]._target_", "i.j"),
    ]
    assert list(targets_in({"_target_": "a.b", "x": {"_target_": None}}, "hydra.sweeper")) == [
        ("hydra.sweeper._target_", "a.b")
    ]


def _composed(*overrides: str, hydra: bool = False) -> DictConfig:
    register_resolvers()
    with initialize_config_dir(config_dir=str(BUILTIN_CONF_DIR), version_base="1.3"):
        return compose("train", overrides=list(overrides), return_hydra_config=hydra)


def _plain(cfg: DictConfig) -> dict[str, object]:
    return OmegaConf.to_container(cfg, resolve=False)  # type: ignore[return-value]


SHIPPED = [o for o in iter_options() if o.source == "built-in" and o.group != "sweep"]


@pytest.mark.parametrize("option", SHIPPED, ids=[f"{o.group}={o.name}" for o in SHIPPED])
def test_every_shipped_option_names_allowed_targets_only(option: object, in_repo: Path) -> None:
    from trainrig.config.target_allowlist import check_targets_resolve

    cfg = _composed(f"{option.group}={option.name}")  # type: ignore[attr-defined]
    check_targets_resolve(_plain(cfg), allow_any=False)


def test_every_experiment_names_allowed_targets_only(in_repo: Path) -> None:
    from trainrig.config.target_allowlist import check_targets_resolve

    experiments = sorted((in_repo / "experiments").glob("*.yaml"))
    assert experiments
    for path in experiments:
        check_targets_resolve(_plain(_composed(f"experiment={path.stem}")), allow_any=False)


SWEEPER_OPTIONS = [
    *(f"hydra/sweeper/sampler={name}" for name in SAMPLERS),
    *(f"hydra/sweeper/pruner={name}" for name in PRUNERS),
]


def test_the_sweepers_own_samplers_and_pruners_are_allowed(in_repo: Path) -> None:
    presets = [f"sweep={o.name}" for o in iter_options("sweep")]
    for choice in ["hydra/sweeper=optuna", *presets, *SWEEPER_OPTIONS]:
        overrides = ["hydra/sweeper=optuna"] + ([choice] if "=optuna" not in choice else [])
        cfg = _composed(*overrides, hydra=True)
        check_sweeper_targets(_plain(cfg.hydra.sweeper), allow_any=False)


def test_custom_search_space_obeys_the_allow_list() -> None:
    with pytest.raises(ConfigError, match=r"hydra.sweeper.custom_search_space: 'os.system'"):
        check_sweeper_targets({"custom_search_space": "os.system"}, allow_any=False)
    with pytest.raises(ConfigError, match=r"hydra.sweeper.sampler._target_: 'evil.Sampler'"):
        check_sweeper_targets({"sampler": {"_target_": "evil.Sampler"}}, allow_any=False)
    check_sweeper_targets({"custom_search_space": "my_space.extend"}, allow_any=True)


# ------------------------------------------------------------------ through the real CLI

EVIL_EXPERIMENT = """# @package _global_
model:
  _target_: {target}
  _partial_: false
  {argument}
"""


@pytest.mark.parametrize(
    ("target", "argument"),
    [("os.system", "command: touch {marker}"), ("subprocess.run", "args: [touch, {marker}]")],
)
def test_an_experiment_naming_outside_code_is_refused_and_nothing_runs(
    target: str, argument: str, trainrig_cli: CliRunner, tmp_path: Path
) -> None:
    marker = tmp_path / "ran"
    (tmp_path / "experiments").mkdir()
    (tmp_path / "experiments" / "evil.yaml").write_text(
        EVIL_EXPERIMENT.format(target=target, argument=argument.format(marker=marker))
    )
    result = trainrig_cli("train", "experiment=evil", "trainer=smoke", cwd=tmp_path)
    _assert_clean_rejection(
        result, f"model._target_: '{target}' is not under trainrig's libraries", tmp_path
    )
    assert "allow_any_target=true" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not marker.exists()


def test_a_deep_target_in_a_user_option_is_refused(trainrig_cli: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "conf" / "data").mkdir(parents=True)
    (tmp_path / "conf" / "data" / "sneaky.yaml").write_text(
        "# Digits, with a surprise.\ndefaults:\n  - digits\n  - _self_\n"
        "extra:\n  steps:\n    - _target_: builtins.exec\n      _args_: ['print(1)']\n"
    )
    result = trainrig_cli("train", "data=sneaky", cwd=tmp_path)
    _assert_clean_rejection(result, "data.extra.steps[0]._target_: 'builtins.exec'", tmp_path)


OWN_MODEL = """
import torch


def build(input_shape, num_classes):
    \"\"\"A linear classifier of the user's own.\"\"\"
    size = 1
    for dim in input_shape:
        size *= dim
    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(size, num_classes))
"""


def test_the_opt_in_lets_a_module_from_outside_the_project_through(
    trainrig_cli: CliRunner, tmp_path: Path
) -> None:
    project, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "own_model.py").write_text(OWN_MODEL)
    (project / "conf" / "model").mkdir(parents=True)
    (project / "conf" / "model" / "own.yaml").write_text(
        "# My linear model.\n_target_: own_model.build\n_partial_: true\n"
    )
    path = {"PYTHONPATH": os.pathsep.join([str(elsewhere), os.environ.get("PYTHONPATH", "")])}
    refused = trainrig_cli("train", "model=own", "trainer=smoke", cwd=project, env=path)
    _assert_clean_rejection(refused, "model._target_: 'own_model.build' is not under", project)
    result = trainrig_cli(
        "train", "model=own", "trainer=smoke", "allow_any_target=true", cwd=project, env=path
    )
    assert result.returncode == 0, result.stderr
    assert len(list(project.glob("outputs/train/runs/*/metrics.json"))) == 1


def test_a_sweep_with_an_outside_search_space_function_is_refused(
    trainrig_cli: CliRunner, tmp_path: Path
) -> None:
    project, elsewhere, marker = tmp_path / "project", tmp_path / "elsewhere", tmp_path / "ran"
    project.mkdir()
    elsewhere.mkdir()
    (elsewhere / "space.py").write_text(
        f"open({str(marker)!r}, 'w').close()\ndef extend(c, t): ...\n"
    )
    path = {"PYTHONPATH": os.pathsep.join([str(elsewhere), os.environ.get("PYTHONPATH", "")])}
    result = trainrig_cli(
        "train", "-m", "hydra/sweeper=optuna", "hydra.sweep.dir=sweep", "trainer=smoke",
        "hydra.sweeper.custom_search_space=space.extend", "model=cnn,mlp", cwd=project, env=path,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert "hydra.sweeper.custom_search_space: 'space.extend' is not under" in result.stderr
    assert "Traceback" not in result.stderr
    assert not marker.exists()
