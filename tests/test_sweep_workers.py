"""Sweeps across processes: a pool of workers, kill -9 and resume, machines sharing PostgreSQL."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from trainrig.config.errors import ConfigError
from trainrig.sweeps.tally import NOT_COUNTED, Tally, counted_trials
from trainrig.sweeps.workers import assign_devices

from .conftest import CliRunner

SWEEP = [
    "-m", "hydra/sweeper=optuna", "hydra.sweeper.direction=maximize", "trainer=smoke",
    "hydra.sweeper.sampler.seed=0", "optimizer.lr=tag(log,interval(1e-3,1e-1))",
]  # fmt: skip


def _job_numbers(sweep_dir: Path) -> list[int]:
    return sorted(int(p.name) for p in sweep_dir.iterdir() if p.name.isdigit())


def test_each_worker_owns_its_gpus_or_none() -> None:
    assert assign_devices(["0", "1", "2", "3"], 2, 2) == ["0,1", "2,3"]
    assert assign_devices(["4", "7"], 2, 1) == ["4", "7"]
    assert assign_devices([], 3, 0) == [None, None, None]
    with pytest.raises(ConfigError, match="needs 4 GPUs, but 2 are visible"):
        assign_devices(["0", "1"], 2, 2)


def test_two_workers_run_trials_at_once_and_stop_at_n_trials(
    trainrig_cli: CliRunner, tmp_path: Path
) -> None:
    result = trainrig_cli(
        "train", *SWEEP, "hydra.sweep.dir=sweep", "hydra.sweeper.n_workers=2",
        "hydra.sweeper.n_trials=6", "hydra/sweeper/pruner=percentile", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    sweep = tmp_path / "sweep"
    assert sum(json.loads((sweep / "summary.json").read_text())["trials"].values()) == 6
    assert _job_numbers(sweep) == [0, 1, 2, 3, 4, 5]
    assert sorted(p.name for p in (sweep / "workers").iterdir()) == ["worker_0.log", "worker_1.log"]
    study = optuna.load_study(study_name="trainrig", storage=f"sqlite:///{sweep}/study.db")
    # What each trial did, where and when, for the messages below if they fail.
    trials = "\n".join(
        f"{t.number} {t.state.name} {t.user_attrs.get('worker')} {t.datetime_start} to "
        f"{t.datetime_complete} lr={t.params.get('optimizer.lr')} "
        f"epochs reported={sorted(t.intermediate_values)} {t.user_attrs}"
        for t in study.trials
    )
    # Both workers may ask for the last trial at once: the later one is marked not counted and
    # runs nothing (trainrig.sweeps.tally); the six counted trials are the sweep's.
    counted = counted_trials(study)
    assert [t.number for t in counted] == [0, 1, 2, 3, 4, 5], trials
    surplus = [t for t in study.trials if t.number > 5]
    assert all(NOT_COUNTED in t.user_attrs and not t.params for t in surplus), trials
    spans = [(t.datetime_start, t.datetime_complete) for t in counted]
    overlapping = any(a[0] < b[1] and b[0] < a[1] for a in spans for b in spans if a is not b)
    assert overlapping, f"the two workers never ran trials at the same time:\n{trials}"
    assert len({t.params["optimizer.lr"] for t in counted}) == 6, trials  # seeds apart
    assert all(t.intermediate_values for t in counted), trials  # reported by the workers
    assert "sweep 6/6: " in result.stderr  # the progress line


def test_each_worker_runs_its_trials_on_its_own_gpus(
    trainrig_cli: CliRunner, tmp_path: Path
) -> None:
    """CUDA_VISIBLE_DEVICES names GPUs 3 and 5: one each for two workers. The trials train on the
    CPU (this machine has no GPU); what each one was given is what a GPU trial would use."""
    result = trainrig_cli(
        "train", *SWEEP, "hydra.sweep.dir=sweep", "hydra.sweeper.n_workers=2",
        "hydra.sweeper.gpus_per_trial=1", "hydra.sweeper.n_trials=4", "trainer.accelerator=cpu",
        cwd=tmp_path, env={"CUDA_VISIBLE_DEVICES": "3,5"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    study = optuna.load_study(study_name="trainrig", storage=f"sqlite:///{tmp_path}/sweep/study.db")
    gpus_of_worker: dict[str, set[str]] = {}
    for trial in counted_trials(study):
        gpus_of_worker.setdefault(trial.user_attrs["worker"], set()).add(
            trial.user_attrs["cuda_visible_devices"]
        )
    assert sorted(gpus_of_worker.values(), key=sorted) == [{"3"}, {"5"}], gpus_of_worker


def _wait_for(predicate: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.2)
    raise AssertionError("timed out waiting for the sweep")


def _default_ctrl_c() -> None:
    """In the sweep's process: Ctrl-C as in a terminal. A test run started in the background of
    a script (`pytest &`) has SIGINT ignored, the sweep would inherit that and never see it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize(
    "stop", [signal.SIGKILL, signal.SIGINT, signal.SIGTERM], ids=["kill-9", "ctrl-c", "sigterm"]
)
def test_a_sweep_stopped_mid_trial_resumes_to_exactly_n_trials(
    stop: signal.Signals, tmp_path: Path
) -> None:
    trials = 3  # one finished before the signal, one stopped by it, one after the resume
    command = [
        sys.executable,
        "-m",
        "trainrig",
        "train",
        *SWEEP,
        "hydra.sweep.dir=sweep",
        f"hydra.sweeper.n_trials={trials}",
        "hydra.sweeper.heartbeat_interval=1",
        "trainer.max_epochs=30",
        "trainer.limit_train_batches=12",
        "early_stopping=none",
    ]  # fmt: skip  (trials of a few seconds: time to catch one running)
    storage = f"sqlite:///{tmp_path}/sweep/study.db"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    log = (tmp_path / "sweep.log").open("w")
    sweep = subprocess.Popen(
        command, cwd=tmp_path, env=env, stdout=log, stderr=log, preexec_fn=_default_ctrl_c
    )

    def mid_trial() -> bool:
        if sweep.poll() is not None:
            raise AssertionError(f"the sweep ended early:\n{(tmp_path / 'sweep.log').read_text()}")
        try:  # plain SQL on Optuna's schema: fast enough to poll while the sweep writes
            with sqlite3.connect(tmp_path / "sweep" / "study.db", timeout=1) as db:
                states = dict(db.execute("SELECT state, COUNT(*) FROM trials GROUP BY state"))
        except sqlite3.Error:  # not created yet, or locked for a moment
            return False
        return states.get("COMPLETE", 0) >= 1 and states.get("RUNNING", 0) == 1

    try:
        _wait_for(mid_trial, timeout=240)
        sweep.send_signal(stop)
        status = sweep.wait(timeout=60)
    finally:
        sweep.kill()
        sweep.wait()
        log.close()
    # 128 + N, as a shell reports it: said by the trial (StopOnSignal), or by the signal itself
    # when it came between two trials; kill -9 ends the process at once
    said = (tmp_path / "sweep.log").read_text()
    assert status in ({-stop} if stop == signal.SIGKILL else {-stop, 128 + stop}), said
    killed = [
        t.number
        for t in optuna.load_study(study_name="trainrig", storage=storage).trials
        if t.state == TrialState.RUNNING
    ]
    assert len(killed) <= 1  # none if the signal came between two trials
    if f"interrupted by {stop.name}" in said:  # a trial stopped mid-fit says so, is not finished
        assert status == 128 + stop and len(killed) == 1, said
    resumed = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert resumed.returncode == 0, resumed.stderr
    study = optuna.load_study(study_name="trainrig", storage=storage)
    by_number = {t.number: t for t in study.trials}
    for number in killed:
        assert by_number[number].state == TrialState.FAIL  # stale: failed by the heartbeat check
        assert "error" not in by_number[number].user_attrs
        retry = [t for t in study.trials if t.system_attrs.get("failed_trial") == number]
        assert len(retry) == 1 and retry[0].state == TrialState.COMPLETE
        if by_number[number].params:  # killed after sampling: the same trial, run again
            assert retry[0].params == by_number[number].params
    summary = json.loads((tmp_path / "sweep" / "summary.json").read_text())
    assert summary["trials"] == {"COMPLETE": trials} and summary["not_counted"] == len(killed)
    finished = [t for t in study.trials if t.state == TrialState.COMPLETE]
    assert len(finished) == trials and len({t.number for t in finished}) == trials
    for trial in finished:  # each finished trial has its own finished job directory
        assert (tmp_path / "sweep" / str(trial.number) / "metrics.json").is_file()
    listed = subprocess.run(  # the study is an ordinary Optuna study: its own CLI reads it
        [str(Path(sys.executable).parent / "optuna"), "trials", "--storage", storage,
         "--study-name", "trainrig", "-f", "json"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert sum(t["state"] == "COMPLETE" for t in json.loads(listed.stdout)) == trials


def test_two_trainrig_processes_share_one_study_on_postgresql(
    postgres_url: str, tmp_path: Path
) -> None:
    """Two `trainrig train -m` processes, as on two machines, join one study on a server."""
    common = [
        *SWEEP, f"hydra.sweeper.storage={postgres_url}", "hydra.sweeper.study_name=shared",
        "hydra.sweeper.n_trials=6",
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    machines = [
        subprocess.Popen(
            [sys.executable, "-m", "trainrig", "train", *common, f"hydra.sweep.dir=machine{i}"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in (0, 1)
    ]
    for machine in machines:
        _, stderr = machine.communicate(timeout=300)
        assert machine.returncode == 0, stderr
    study = optuna.load_study(study_name="shared", storage=postgres_url)
    assert Tally.of(study).states == {"COMPLETE": 6}
    jobs = [_job_numbers(tmp_path / f"machine{i}") for i in (0, 1)]
    assert sorted(jobs[0] + jobs[1]) == [0, 1, 2, 3, 4, 5]  # every trial ran once, somewhere
    assert jobs[0] and jobs[1]  # and both machines took part
