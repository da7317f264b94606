"""A non-editable install (the built wheel) works from any directory: configs ship inside it."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from .conftest import REPO_ROOT


@pytest.fixture(scope="module")
def wheel_install(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """trainrig's wheel, built from this checkout and unpacked into a folder of its own."""
    dist = tmp_path_factory.mktemp("dist")
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet"]
    subprocess.run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(dist), str(REPO_ROOT)],
        check=True,
    )
    (wheel,) = dist.glob("trainrig-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "trainrig/conf/train.yaml" in names
    assert "trainrig/conf/model/cnn.yaml" in names
    assert any(n.startswith("hydra_plugins/trainrig_config_search/") for n in names)
    target = tmp_path_factory.mktemp("site")
    subprocess.run([*pip, "install", "--no-deps", "--target", str(target), str(wheel)], check=True)
    return target


def _run_installed(site: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(site)}
    return subprocess.run(
        [sys.executable, "-m", "trainrig", *args], cwd=cwd, env=env, capture_output=True, text=True
    )


def test_installed_wheel_composes_lists_and_trains_outside_the_repo(
    wheel_install: Path, tmp_path: Path
) -> None:
    where = _run_installed(wheel_install, tmp_path, "list", "model")
    assert where.returncode == 0, where.stderr
    assert "cnn" in where.stdout
    located = subprocess.run(
        [sys.executable, "-c", "import trainrig; print(trainrig.__file__)"],
        env={**os.environ, "PYTHONPATH": str(wheel_install)},
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert located.stdout.startswith(str(wheel_install))
    result = _run_installed(wheel_install, tmp_path, "train", "trainer=smoke")
    assert result.returncode == 0, result.stderr
    (run_dir,) = (tmp_path / "outputs" / "train" / "runs").iterdir()
    assert (run_dir / "metrics.json").is_file()
