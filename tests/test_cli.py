"""The command line: help, Hydra's own flags, listing, completion, and an instant start."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

from .conftest import REPO_ROOT, CliRunner


def test_top_level_help_lists_the_commands(trainrig_cli: CliRunner) -> None:
    result = trainrig_cli("--help")
    assert result.returncode == 0
    for command in ("train", "eval ckpt_path=PATH", "lr-find", "list [GROUP]"):
        assert command in result.stdout


def test_train_help_is_hydras_app_help_with_every_group(trainrig_cli: CliRunner) -> None:
    result = trainrig_cli("train", "--help")
    assert result.returncode == 0, result.stderr
    assert "model: cnn, mlp" in result.stdout
    experiments = next(
        line for line in result.stdout.splitlines() if line.startswith("experiment:")
    )
    assert {"baseline", "digits_mlp_sgd"} <= set(
        experiments.removeprefix("experiment: ").split(", ")
    )


def test_cfg_job_prints_the_composed_config_with_overrides(trainrig_cli: CliRunner) -> None:
    result = trainrig_cli("train", "--cfg", "job", "model=mlp", "optimizer.lr=0.01")
    assert result.returncode == 0, result.stderr
    cfg = yaml.safe_load(result.stdout)
    assert cfg["model"]["_target_"] == "trainrig.models.mlp.build_mlp"
    assert cfg["optimizer"]["lr"] == 0.01
    assert cfg["trainer"]["_target_"] == "pytorch_lightning.Trainer"


def test_info_shows_the_user_search_path(trainrig_cli: CliRunner) -> None:
    result = trainrig_cli("train", "--info", "searchpath")
    assert result.returncode == 0, result.stderr
    assert f"trainrig-options://{REPO_ROOT}/conf" in result.stdout  # options filled from builders
    assert f"trainrig-experiments://{REPO_ROOT}/experiments" in result.stdout


def test_cfg_job_imports_neither_torch_nor_lightning() -> None:
    script = (
        "import sys\n"
        "from trainrig.cli.main import main\n"
        "try:\n    main(['train', '--cfg', 'job'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('torch', 'pytorch_lightning', 'lightning', 'kornia', 'optuna')"
        " if m in sys.modules]\n"
        "print('HEAVY', heavy, file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True
    )
    assert "HEAVY []" in result.stderr, result.stderr


def test_list_shows_every_group_with_descriptions(trainrig_cli: CliRunner) -> None:
    result = trainrig_cli("list")
    assert result.returncode == 0
    for group in ("data", "augmentation", "model", "optimizer", "scheduler", "experiment"):
        assert f"\n{group}\n" in f"\n{result.stdout}"
    assert "cnn" in result.stdout and "A small CNN" in result.stdout


def test_list_one_group(trainrig_cli: CliRunner) -> None:
    result = trainrig_cli("list", "optimizer")
    assert result.returncode == 0
    names = [line.split()[0] for line in result.stdout.splitlines()[1:]]
    assert names == ["adam", "adamw", "rmsprop", "sgd"]


def _complete(line: str) -> list[str]:
    env = {**os.environ, "COMP_LINE": line, "COMP_POINT": str(len(line))}
    result = subprocess.run(
        [sys.executable, "-m", "trainrig", "-sc", "query=bash"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_shell_completion_of_commands_groups_and_options() -> None:
    assert _complete("trainrig t") == ["train"]
    assert _complete("trainrig ") == [
        "train", "eval", "predict", "lr-find", "compress", "resume", "list", "report",
    ]  # fmt: skip
    assert "model=" in _complete("trainrig train mod")
    assert _complete("trainrig train model=") == [
        "model=cnn",
        "model=mlp",
        "model=resnet",
        "model=torchvision",
    ]
    assert "lr_find.num_training=" in " ".join(_complete("trainrig lr-find lr_find."))
    assert "experiment=baseline" in _complete("trainrig train experiment=")


def test_shell_completion_install_script(trainrig_cli: CliRunner) -> None:
    result = trainrig_cli("-sc", "install=bash")
    assert result.returncode == 0
    assert "complete -o nospace -o default -F hydra_bash_completion" in result.stdout


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).parent / "trainrig"
    result = subprocess.run([str(script), "--help"], capture_output=True, text=True)
    assert result.returncode == 0
    assert "usage: trainrig COMMAND" in result.stdout


def test_list_into_a_closed_pipe_ends_quietly() -> None:
    """`trainrig list | head`: the reader is gone before the listing is written."""
    process = subprocess.Popen(
        [sys.executable, "-m", "trainrig", "list"],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()
    assert process.wait(timeout=60) == 0
    assert process.stderr.read() == ""
