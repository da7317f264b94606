"""Runs stopped by a signal say so and exit 128 + N; resuming keeps every epoch's record once;
every file a run writes follows the umask (issue 25, points 1, 4 and 5)."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

RUN = [
    "trainer=smoke",
    "trainer.max_epochs=4",
    "trainer.limit_train_batches=6",
    "trainer.deterministic=true",
]
UMASK = 0o027


def _start(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """`trainrig ARGS` as a process of its own, under UMASK, with `env` added."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    env.pop("HYDRA_FULL_ERROR", None)
    return subprocess.Popen(
        [sys.executable, "-m", "trainrig", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        umask=UMASK,
    )


def _validated_epochs(run_dir: Path) -> list[int]:
    """The epochs of the validation rows in the run's csv/metrics.csv, in file order."""
    path = run_dir / "csv" / "metrics.csv"
    if not path.is_file():
        return []
    with path.open(newline="") as file:
        return [int(row["epoch"]) for row in csv.DictReader(file) if row.get("val/acc")]


def _when_validated(process: subprocess.Popen[str], run_dir: Path, epoch: int) -> None:
    """Wait until the run has logged the validation of `epoch`."""
    deadline = time.monotonic() + 120
    while epoch not in _validated_epochs(run_dir):
        assert process.poll() is None, f"the run ended first: {process.communicate()[1]}"
        assert time.monotonic() < deadline, "the run never reached that epoch"
        time.sleep(0.02)


@pytest.fixture(scope="module")
def stopped(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int, str, str]:
    """A run sent SIGTERM after its first validation, then `trainrig resume`d (both under
    UMASK): (run directory, the stopped run's exit status, its stderr, the resume's stderr)."""
    cwd = tmp_path_factory.mktemp("stopped")
    run_dir = cwd / "run"
    process = _start(cwd, "train", *RUN, "hydra.run.dir=run")
    _when_validated(process, run_dir, 0)
    process.send_signal(signal.SIGTERM)
    _, stopped_err = process.communicate(timeout=120)
    assert not (run_dir / "metrics.json").exists(), "an interrupted run wrote final metrics"
    resumed = _start(cwd, "resume", str(run_dir))
    _, resumed_err = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, resumed_err
    return run_dir, process.returncode, stopped_err, resumed_err


def test_sigterm_saves_the_step_says_how_to_resume_and_exits_143(
    stopped: tuple[Path, int, str, str],
) -> None:
    run_dir, status, stderr, _ = stopped
    assert status == 128 + signal.SIGTERM, stderr
    last_line = stderr.strip().splitlines()[-1]
    said = re.fullmatch(
        rf"interrupted by SIGTERM at epoch (\d+), step (\d+): trainrig resume {run_dir} "
        r"continues from checkpoints/last\.ckpt",
        last_line,
    )
    assert said, last_line
    epoch, step = int(said.group(1)), int(said.group(2))
    assert epoch >= 1 and step >= 6  # stopped after the first validation, not before


def test_resumed_run_finishes_and_its_csv_holds_every_epoch_once(
    stopped: tuple[Path, int, str, str],
) -> None:
    run_dir = stopped[0]
    assert (run_dir / "metrics.json").is_file()
    assert _validated_epochs(run_dir) == [0, 1, 2, 3]
    state = torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)
    assert (state["epoch"], state["global_step"]) == (3, 24)  # 4 epochs of 6 steps


def _modes(folder: Path) -> dict[str, int]:
    """Each file's and folder's permission bits, by path inside `folder`."""
    return {
        str(path.relative_to(folder)): stat.S_IMODE(path.lstat().st_mode)
        for path in folder.rglob("*")
        if not path.is_symlink()
    }


def _wrong_modes(folder: Path, umask: int) -> dict[str, str]:
    """The entries whose mode is not what `open()`/`mkdir()` give under `umask`."""
    wanted = {False: 0o666 & ~umask, True: 0o777 & ~umask}
    return {
        name: oct(mode)
        for name, mode in _modes(folder).items()
        if mode != wanted[(folder / name).is_dir()]
    }


def test_every_file_of_a_stopped_and_resumed_run_follows_the_umask(
    stopped: tuple[Path, int, str, str],
) -> None:
    run_dir = stopped[0]
    assert {"config.yaml", "metrics.json", "checkpoints/last.ckpt"} <= set(_modes(run_dir))
    assert _wrong_modes(run_dir, UMASK) == {}


def test_a_second_signal_ends_the_run_at_once(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    process = _start(tmp_path, "train", *RUN, "hydra.run.dir=run")
    _when_validated(process, run_dir, 0)
    process.send_signal(signal.SIGINT)
    process.send_signal(signal.SIGTERM)  # another signal: never merged with the first
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 128 + signal.SIGTERM, stderr
    assert stderr.strip().splitlines()[-1] == "second SIGTERM: stopped at once"
    assert "interrupted by" not in stderr
    last = run_dir / "checkpoints" / "last.ckpt"
    if last.is_file():  # an epoch's own, not one saved mid-epoch for the interruption
        assert torch.load(last, weights_only=True)["global_step"] % 6 == 0


def test_resume_names_a_damaged_last_checkpoint_and_the_ways_out(
    stopped: tuple[Path, int, str, str], tmp_path: Path
) -> None:
    copy = tmp_path / "run"
    shutil.copytree(stopped[0], copy)
    (copy / "metrics.json").unlink()  # not finished: resume reads last.ckpt
    last = copy / "checkpoints" / "last.ckpt"
    last.write_bytes(last.read_bytes()[: last.stat().st_size // 2])
    resumed = _start(tmp_path, "resume", str(copy))
    _, stderr = resumed.communicate(timeout=120)
    assert resumed.returncode == 1, stderr
    assert stderr.count("\n") == 1, stderr
    assert stderr.startswith(f"trainrig: error: resume=auto: {last} is damaged"), stderr
    assert f"cp {copy / 'checkpoints' / 'best.ckpt'} {last}" in stderr
    assert f"rm {last}" in stderr


# A callback of the project's own: SIGKILL once, when `epoch`'s training ends, after its
# validation was logged. As a plain Callback it runs before last.ckpt is saved for the epoch; as
# a Checkpoint after it (Lightning calls checkpoint callbacks last, in order) and before Lightning
# logs the epoch's training row, which the checkpoint therefore carries (resumed_records.py).
KILLER = """
import os
import signal
from pathlib import Path

from pytorch_lightning.callbacks import {base}


class KillOnce({base}):
    def __init__(self, epoch: int, done: str) -> None:
        self.epoch, self.done = epoch, Path(done)

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        if trainer.current_epoch == self.epoch and not self.done.exists():
            self.done.touch()
            os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.mark.parametrize(
    ("base", "saved_epoch"),
    [("Callback", 0), ("Checkpoint", 1)],
    ids=["before-its-checkpoint", "after-its-checkpoint-before-its-training-row"],
)
def test_a_run_killed_at_an_epochs_end_resumes_to_each_epoch_once_in_every_logger(
    base: str, saved_epoch: int, tmp_path: Path
) -> None:
    from mlflow.tracking import MlflowClient
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from trainrig.training.loggers.mlflow_logger import local_tracking_uri

    (tmp_path / "killer.py").write_text(KILLER.format(base=base))
    run_dir = tmp_path / "run"
    killed = _start(
        tmp_path, "train", *RUN, "trainer.max_epochs=3", "logger=[csv,tensorboard,mlflow]",
        f"+callbacks.kill={{_target_:killer.KillOnce,epoch:1,done:'{tmp_path / 'killed'}'}}",
        "hydra.run.dir=run",
    )  # fmt: skip
    _, stderr = killed.communicate(timeout=180)
    assert killed.returncode == -signal.SIGKILL, stderr
    last = torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)
    assert last["epoch"] == saved_epoch
    assert _validated_epochs(run_dir) == [0, 1]  # epoch 1 was validated; its training row not
    assert _trained_epochs(run_dir) == [0]
    resumed = _start(tmp_path, "resume", str(run_dir))
    _, stderr = resumed.communicate(timeout=180)
    assert resumed.returncode == 0, stderr

    epoch_ends = [5, 11, 17]  # the step each epoch's figures are logged at: 6 steps an epoch
    assert _validated_epochs(run_dir) == [0, 1, 2]
    assert _trained_epochs(run_dir) == [0, 1, 2]
    events = EventAccumulator(str(run_dir / "tensorboard"))  # all its event files, in order
    events.Reload()
    client = MlflowClient(tracking_uri=local_tracking_uri(run_dir))
    (run,) = client.search_runs([client.get_experiment_by_name("trainrig").experiment_id])
    for metric in ("val/acc", "train/loss"):
        assert [event.step for event in events.Scalars(metric)] == epoch_ends, metric
        history = client.get_metric_history(run.info.run_id, metric)
        assert sorted(m.step for m in history) == epoch_ends, metric


def _trained_epochs(run_dir: Path) -> list[int]:
    """The epochs of the epoch-level training rows in csv/metrics.csv, in file order."""
    with (run_dir / "csv" / "metrics.csv").open(newline="") as file:
        return [int(row["epoch"]) for row in csv.DictReader(file) if row.get("train/loss")]


# Sends SIGUSR1, Slurm's `--signal=USR1@90`, to its own process once, when `epoch` ends after its
# checkpoints (a Checkpoint callback runs after them): a point where a resumed run can match an
# uninterrupted one exactly (trainrig's data loaders cannot resume mid-epoch).
SENDER = """
import os
import signal

from pytorch_lightning.callbacks import Checkpoint


class SendUsr1(Checkpoint):
    def on_train_epoch_end(self, trainer, pl_module) -> None:
        if trainer.ckpt_path is None and trainer.current_epoch == 0:
            os.kill(os.getpid(), signal.SIGUSR1)
"""
SCONTROL = '#!/bin/sh\necho "$@" >> "$SCONTROL_LOG"\n'


def test_a_slurm_requeue_saves_an_hpc_checkpoint_requeues_and_the_requeued_job_finishes_the_run(
    tmp_path: Path,
) -> None:
    """Slurm cannot run here: its environment (the SLURM_* variables srun sets for one task) is
    faked and `scontrol` is a script on PATH that records its arguments. The job's SIGUSR1 is
    real: Lightning's SLURMEnvironment saves hpc_ckpt_1.ckpt and calls `scontrol requeue`; the
    run stops, says so and exits 138; the same command again (the requeued job) resumes from
    hpc_ckpt_1.ckpt to the metrics of a run that was never stopped."""
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "scontrol").write_text(SCONTROL)
    (tmp_path / "bin" / "scontrol").chmod(0o755)
    (tmp_path / "sender.py").write_text(SENDER)
    settings = [*RUN, "trainer.max_epochs=2", "resume=auto"]
    slurm = {
        "SLURM_JOB_ID": "4242", "SLURM_JOB_NAME": "digits", "SLURM_NTASKS": "1",
        "SLURM_PROCID": "0", "SLURM_LOCALID": "0", "SLURM_NODEID": "0",
        "SCONTROL_LOG": str(tmp_path / "scontrol.log"),
        "PATH": f"{tmp_path / 'bin'}:{os.environ['PATH']}",
    }  # fmt: skip
    job = [*settings, "+callbacks.send._target_=sender.SendUsr1"]  # run dir: slurm-<job id>
    run_dir = tmp_path / "outputs" / "train" / "runs" / "slurm-4242"
    first = _start(tmp_path, "train", *job, env=slurm)
    _, stderr = first.communicate(timeout=180)
    assert first.returncode == 128 + signal.SIGUSR1, stderr
    assert (tmp_path / "scontrol.log").read_text() == "requeue 4242\n"
    hpc, last = run_dir / "hpc_ckpt_1.ckpt", run_dir / "checkpoints" / "last.ckpt"
    assert hpc.stat().st_mtime_ns > last.stat().st_mtime_ns  # the newest: resume=auto takes it
    assert not (run_dir / "metrics.json").exists()
    said = stderr.strip().splitlines()[-1]
    assert said.startswith("interrupted by SIGUSR1 at epoch 1, step 6: Slurm requeued the job")

    requeued = _start(tmp_path, "train", *job, env=slurm)
    _, stderr = requeued.communicate(timeout=180)
    assert requeued.returncode == 0, stderr
    assert (tmp_path / "scontrol.log").read_text() == "requeue 4242\n"  # not requeued again
    uninterrupted = _start(tmp_path, "train", *settings, "hydra.run.dir=plain")
    _, stderr = uninterrupted.communicate(timeout=180)
    assert uninterrupted.returncode == 0, stderr
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics == json.loads((tmp_path / "plain" / "metrics.json").read_text())
    assert _validated_epochs(run_dir) == [0, 1] and _trained_epochs(run_dir) == [0, 1]
