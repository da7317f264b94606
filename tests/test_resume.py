"""Resume: a run killed with SIGKILL continues from its last checkpoint to the same result."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from .conftest import CliRunner

SETTINGS = [
    "trainer.max_epochs=6",
    "trainer.deterministic=true",
    "trainer.enable_progress_bar=false",
]


def _train(cwd: Path, run_dir: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "trainrig", "train", *SETTINGS, f"hydra.run.dir={run_dir}"]
    return subprocess.Popen(
        command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )


def _after_epoch(epoch: int) -> Callable[[Path], bool]:
    """True once the run has logged the validation of `epoch` (last.ckpt follows it)."""

    def reached(run_dir: Path) -> bool:
        log = run_dir / "csv" / "metrics.csv"
        return log.is_file() and any(
            line.startswith(f"{epoch},") for line in log.read_text().splitlines()
        )

    return reached


def _started(run_dir: Path) -> bool:
    """True once the run wrote its config: data and model are being built, nothing is saved."""
    return (run_dir / "config.yaml").is_file()


def _kill_when(
    process: subprocess.Popen[str], run_dir: Path, ready: Callable[[Path], bool]
) -> None:
    deadline = time.monotonic() + 120
    while not ready(run_dir):
        assert process.poll() is None, f"the run ended before it was killed: {process.stderr}"
        assert time.monotonic() < deadline, "the run never reached the kill point"
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()


def _progress(run_dir: Path) -> tuple[int, int]:
    """(epoch, global step) of the run's last checkpoint."""
    state = torch.load(run_dir / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    return state["epoch"], state["global_step"]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cwd = tmp_path_factory.mktemp("uninterrupted")
    process = _train(cwd, "run")
    assert process.wait() == 0, process.stderr.read() if process.stderr else ""
    return cwd / "run"


@pytest.mark.slow
@pytest.mark.parametrize(
    "kill_point", [_started, _after_epoch(2)], ids=["before-any-checkpoint", "after-epoch-2"]
)
def test_a_run_killed_at_any_moment_resumes_to_the_metrics_of_an_uninterrupted_run(
    kill_point: Callable[[Path], bool], uninterrupted: Path, trainrig_cli: CliRunner, tmp_path: Path
) -> None:
    run_dir = tmp_path / "run"
    _kill_when(_train(tmp_path, "run"), run_dir, kill_point)
    assert not (run_dir / "metrics.json").exists()  # the run directory says it did not finish

    result = trainrig_cli("resume", str(run_dir), cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    expected = json.loads((uninterrupted / "metrics.json").read_text())
    assert json.loads((run_dir / "metrics.json").read_text()) == expected
    assert _progress(run_dir) == _progress(uninterrupted)  # no epoch lost, none repeated
    # the record too: every logged row once, from epoch 0, as the uninterrupted run has them
    assert _logged_rows(run_dir) == _logged_rows(uninterrupted)
    validated = [epoch for epoch, _, kind in _logged_rows(run_dir) if kind == "val"]
    assert validated == [str(epoch) for epoch in range(6)]


def _logged_rows(run_dir: Path) -> list[tuple[str, str, str]]:
    """(epoch, step, kind) of each csv/metrics.csv row: kind val, train (epoch end) or other."""
    with (run_dir / "csv" / "metrics.csv").open(newline="") as file:
        rows = list(csv.DictReader(file))
    kind = {True: "val", False: "other"}
    return [
        (r["epoch"], r["step"], "train" if r.get("train/acc") else kind[bool(r.get("val/acc"))])
        for r in rows
    ]


def test_resuming_a_finished_run_keeps_its_results(
    uninterrupted: Path, trainrig_cli: CliRunner
) -> None:
    metrics = uninterrupted / "metrics.json"
    before = (metrics.read_bytes(), metrics.stat().st_mtime_ns)
    result = trainrig_cli("resume", str(uninterrupted), cwd=uninterrupted.parent)
    assert result.returncode == 0, result.stderr
    assert "finished already" in result.stdout
    assert (metrics.read_bytes(), metrics.stat().st_mtime_ns) == before


def test_resume_refuses_a_run_directory_of_another_config(
    uninterrupted: Path, trainrig_cli: CliRunner
) -> None:
    (uninterrupted / "metrics.json").rename(uninterrupted / "metrics.json.kept")
    try:
        result = trainrig_cli(
            "train", *SETTINGS, "model=mlp", f"hydra.run.dir={uninterrupted}", "resume=auto",
            cwd=uninterrupted.parent,
        )  # fmt: skip
    finally:
        (uninterrupted / "metrics.json.kept").rename(uninterrupted / "metrics.json")
    assert result.returncode == 2
    assert "holds a run of another config" in result.stderr and "model." in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nowhere"], "is not a run directory"),
        ([], "usage: trainrig resume RUN_DIR"),
        (["a", "b"], "usage: trainrig resume RUN_DIR"),
    ],
)
def test_resume_of_something_that_is_not_a_run_directory_is_refused(
    args: list[str], message: str, trainrig_cli: CliRunner, tmp_path: Path
) -> None:
    result = trainrig_cli("resume", *args, cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "outputs").exists()


def test_a_password_redacted_in_the_saved_config_still_matches(tmp_path: Path) -> None:
    from omegaconf import OmegaConf

    from trainrig.rundir.resume import checkpoint_to_resume

    url = "postgresql://trainer:s3cret@127.0.0.1/runs"
    (tmp_path / "checkpoints").mkdir()
    torch.save({"epoch": 0}, tmp_path / "checkpoints" / "last.ckpt")  # a whole checkpoint file
    (tmp_path / "config.yaml").write_text("tracking: postgresql://trainer:***@127.0.0.1/runs\n")
    wanted = OmegaConf.create({"tracking": url, "resume": "auto"})
    assert checkpoint_to_resume(wanted, tmp_path) == tmp_path / "checkpoints" / "last.ckpt"
    other = OmegaConf.create({"tracking": url.replace("runs", "other"), "resume": "auto"})
    with pytest.raises(Exception, match="tracking"):
        checkpoint_to_resume(other, tmp_path)


def test_a_finished_run_of_another_config_is_refused_not_returned(tmp_path: Path) -> None:
    from omegaconf import OmegaConf

    from trainrig.config.errors import ConfigError
    from trainrig.rundir.resume import finished_metrics

    (tmp_path / "config.yaml").write_text("model: {name: cnn}\nresume: null\n")
    (tmp_path / "metrics.json").write_text('{"test/acc": 0.98}')
    same = OmegaConf.create({"model": {"name": "cnn"}, "resume": "auto"})
    assert finished_metrics(same, tmp_path) == {"test/acc": 0.98}
    other = OmegaConf.create({"model": {"name": "mlp"}, "resume": "auto"})
    with pytest.raises(ConfigError, match=r"another config \(differing: model.name\)"):
        finished_metrics(other, tmp_path)
