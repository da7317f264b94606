"""A user's own project through the real CLI: its modules train with no opt-in and no PYTHONPATH,
a package it trusts in pyproject.toml is allowed, outside code is still refused, and a module of
its that fails to import is one line naming the module, its file and the error."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import trainrig

from .test_bad_input import _assert_clean_rejection

# trainrig's own source (or the site-packages it is installed in): never the project's folder
TRAINRIG_PATH = str(Path(trainrig.__file__).resolve().parents[1])
FAST = ["trainer=smoke", "trainer.max_epochs=1", "hydra.run.dir=run"]

NETS = """
import math

from torch import nn


def build_net(input_shape, num_classes):
    \"\"\"A linear classifier of the project's own, trainrig's model contract.\"\"\"
    return nn.Sequential(nn.Flatten(), nn.Linear(math.prod(input_shape), num_classes))
"""


def _trainrig(
    *args: str, cwd: Path, path: tuple[Path, ...] = ()
) -> subprocess.CompletedProcess[str]:
    """`trainrig ARGS` in `cwd` as the installed command starts: the working directory is not on
    sys.path (`-P`), and PYTHONPATH holds trainrig's own code and `path` only."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([TRAINRIG_PATH, *map(str, path)])}
    env.pop("HYDRA_FULL_ERROR", None)
    command = [sys.executable, "-P", "-m", "trainrig", *args]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def _project(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def _model(target: str) -> list[str]:
    """Overrides that make `target` the whole model node (cnn's keys dropped)."""
    return ["~model", f"+model._target_={target}", "+model._partial_=true"]


def _trained(run: Path) -> dict[str, float]:
    metrics: dict[str, float] = json.loads((run / "metrics.json").read_text())
    assert 0.0 <= metrics["val/acc"] <= 1.0
    return metrics


def test_a_projects_own_builder_trains_without_opt_in_or_pythonpath(tmp_path: Path) -> None:
    project = _project(tmp_path / "project", {"mypkg/__init__.py": "", "mypkg/nets.py": NETS})
    result = _trainrig("train", *_model("mypkg.nets.build_net"), *FAST, cwd=project)
    assert result.returncode == 0, result.stderr
    assert _trained(project / "run")["model/parameters"] == 64 * 10 + 10  # digits: 8x8, 10 classes


def test_a_trusted_package_is_allowed_and_another_refused(tmp_path: Path) -> None:
    elsewhere = _project(
        tmp_path / "elsewhere", {"mylib/__init__.py": NETS, "otherlib/__init__.py": NETS}
    )
    project = _project(
        tmp_path / "project", {"pyproject.toml": '[tool.trainrig]\ntrusted_modules = ["mylib"]\n'}
    )
    refused = _trainrig(
        "train", *_model("otherlib.build_net"), *FAST, cwd=project, path=(elsewhere,)
    )
    _assert_clean_rejection(
        refused, "model._target_: 'otherlib.build_net' is not under trainrig's libraries", project
    )
    assert "trusted_modules" in refused.stderr and "allow_any_target=true" in refused.stderr
    result = _trainrig("train", *_model("mylib.build_net"), *FAST, cwd=project, path=(elsewhere,))
    assert result.returncode == 0, result.stderr
    _trained(project / "run")


def test_os_system_in_a_users_experiment_is_refused_even_with_an_os_py_there(
    tmp_path: Path,
) -> None:
    marker = tmp_path / "ran"
    project = _project(
        tmp_path / "project",
        {
            "os.py": "def system(command): ...\n",
            "experiments/evil.yaml": "# @package _global_\nmodel:\n  _target_: os.system\n"
            f"  _partial_: false\n  command: touch {marker}\n",
        },
    )
    result = _trainrig("train", "experiment=evil", "trainer=smoke", cwd=project)
    _assert_clean_rejection(result, "model._target_: 'os.system' is not under", project)
    assert len(result.stderr.strip().splitlines()) == 1
    assert not marker.exists()


def test_a_project_module_that_fails_to_import_is_one_line_before_any_data_loads(
    tmp_path: Path,
) -> None:
    project = _project(
        tmp_path / "project",
        {"mypkg/__init__.py": "", "mypkg/models.py": f"import nosuchlib\n{NETS}"},
    )
    result = _trainrig("train", *_model("mypkg.models.build_net"), "trainer=smoke", cwd=project)
    _assert_clean_rejection(
        result,
        f"trainrig: error: model._target_: could not import mypkg.models (found at "
        f"{project}/mypkg/models.py, searched from {project}): "
        "ModuleNotFoundError: No module named 'nosuchlib'\n",
        project,
    )
    assert result.stderr.count("\n") == 1
    assert "digits:" not in result.stdout + result.stderr  # the data module never started
