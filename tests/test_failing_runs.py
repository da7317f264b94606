"""A diverged run and a full disk end with one line that says where, why and the way out, exit
1, and leave no final metrics and no partial file under a final name (issue 25, points 2, 3)."""

from __future__ import annotations

import json
import os
import resource
import signal
import stat
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import optuna
import pytest

from .conftest import CliRunner

DIVERGES = ["trainer=smoke", "optimizer.lr=1e30"]


def test_a_diverged_run_stops_at_once_with_the_step_and_the_ways_out(
    trainrig_cli: CliRunner, tmp_path: Path
) -> None:
    result = trainrig_cli("train", *DIVERGES, "hydra.run.dir=run", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith("trainrig: error: training loss is nan at epoch 0, step "), line
    assert "last finite loss: " in line and "optimizer.lr" in line
    assert "trainer.gradient_clip_val" in line and "on_nonfinite_loss=continue" in line
    assert "Error executing job" not in result.stderr
    assert not (tmp_path / "run" / "metrics.json").exists()
    assert not (tmp_path / "run" / "checkpoints").exists()  # stopped in the first epoch


def test_on_nonfinite_loss_continue_trains_on_as_before(
    trainrig_cli: CliRunner, tmp_path: Path
) -> None:
    result = trainrig_cli(
        "train", *DIVERGES, "on_nonfinite_loss=continue", "trainer.max_epochs=1",
        "hydra.run.dir=run", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["val/loss"] != 0.0


def test_a_bad_on_nonfinite_loss_is_one_line_and_exit_2(
    trainrig_cli: CliRunner, tmp_path: Path
) -> None:
    result = trainrig_cli("train", "on_nonfinite_loss=ignore", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("trainrig: error: on_nonfinite_loss"), result.stderr
    assert result.stderr.count("\n") == 1, result.stderr


def test_a_sweep_fails_a_diverged_trial_with_its_reason_and_goes_on_with_readable_files(
    trainrig_cli: CliRunner, tmp_path: Path
) -> None:
    previous = os.umask(0o022)
    try:
        result = trainrig_cli(
            "train", "-m", "hydra/sweeper=optuna", "hydra/sweeper/sampler=grid",
            "hydra.sweeper.direction=maximize", "hydra.sweeper.n_trials=2",
            "hydra.sweeper.max_failure_rate=1.0", "hydra.sweep.dir=sweep", "trainer=smoke",
            "trainer.max_epochs=1", "optimizer.lr=choice(1e30,0.01)", cwd=tmp_path,
        )  # fmt: skip
    finally:
        os.umask(previous)
    assert result.returncode == 0, result.stderr
    study = optuna.load_study(study_name="trainrig", storage=f"sqlite:///{tmp_path}/sweep/study.db")
    states = {t.params["optimizer.lr"]: t for t in study.trials}
    assert states[1e30].state == optuna.trial.TrialState.FAIL
    assert "training loss is nan at epoch 0" in states[1e30].user_attrs["error"]
    assert states[0.01].state == optuna.trial.TrialState.COMPLETE
    wrong = {
        str(p.relative_to(tmp_path)): oct(stat.S_IMODE(p.stat().st_mode))
        for p in (tmp_path / "sweep").rglob("*")
        if stat.S_IMODE(p.stat().st_mode) != (0o755 if p.is_dir() else 0o644)
    }
    assert wrong == {}


@pytest.fixture
def small_disk() -> Iterator[tuple[Path, str]]:
    """A 3 MiB file system (a tmpfs, where mounting is allowed): room for one epoch's two
    checkpoints, not a third; else a folder under a 1 MiB file-size limit (EFBIG), which stops
    the first checkpoint. Yields the folder and how full it is made ("tmpfs" or "rlimit")."""
    folder = Path(tempfile.mkdtemp())
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(folder)],
        capture_output=True,
        check=False,
    )
    try:
        yield folder, "tmpfs" if mounted.returncode == 0 else "rlimit"
    finally:
        if mounted.returncode == 0:
            subprocess.run(["umount", str(folder)], check=False)
        subprocess.run(["rm", "-rf", str(folder)], check=False)


def _file_size_limit() -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of the signal
    resource.setrlimit(resource.RLIMIT_FSIZE, (2**20, 2**20))


def test_a_full_disk_names_the_file_and_leaves_no_partial_checkpoint(
    small_disk: tuple[Path, str], tmp_path: Path
) -> None:
    folder, kind = small_disk
    run_dir = folder / "run"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("HYDRA_FULL_ERROR", None)
    result = subprocess.run(
        [sys.executable, "-m", "trainrig", "train", "trainer=smoke", f"hydra.run.dir={run_dir}"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=_file_size_limit if kind == "rlimit" else None,
    )
    assert result.returncode == 1, result.stderr
    line = result.stderr.strip().splitlines()[-1]
    cause = "No space left on device" if kind == "tmpfs" else "File too large"
    assert line.startswith(f"trainrig: error: cannot write {run_dir}/checkpoints/"), line
    assert f"({cause})" in line, line
    assert "hydra.run.dir=" in line or kind == "rlimit", line  # the way out
    assert "Error executing job" not in result.stderr
    assert not (run_dir / "metrics.json").exists()
    checkpoints = sorted((run_dir / "checkpoints").iterdir())
    assert all(not p.name.startswith(".") for p in checkpoints), "a temporary file was left"
    for path in checkpoints:  # what stands under a final name is whole
        with zipfile.ZipFile(path) as archive:
            assert archive.testzip() is None
