"""Optuna studies in a real PostgreSQL database, optimized by two processes at once."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter

import optuna

WORKER = """
import os, sys, time
import optuna

storage, name = sys.argv[1:3]
study = optuna.load_study(study_name=name, storage=storage, sampler=optuna.samplers.RandomSampler())
print("ready", flush=True)
sys.stdin.readline()  # start together with the other worker


def objective(trial):
    x = trial.suggest_float("x", -10, 10)
    trial.set_user_attr("pid", os.getpid())
    time.sleep(0.05)  # let the two workers' trials interleave
    return (x - 2) ** 2


optuna.logging.set_verbosity(optuna.logging.WARNING)
study.optimize(objective, n_trials=5)
"""


def test_two_processes_share_a_postgres_study(postgres_url: str) -> None:
    """Two OS processes optimize one study concurrently: 10 trials, numbered 0..9, 5 from each."""
    name = "two-processes"
    optuna.create_study(study_name=name, storage=postgres_url)
    cmd = [sys.executable, "-c", WORKER, postgres_url, name]
    workers = [
        subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    for w in workers:
        assert w.stdout is not None and w.stdout.readline().strip() == "ready"
    for w in workers:
        assert w.stdin is not None
        w.stdin.write("go\n")
        w.stdin.flush()
    for w in workers:
        w.communicate(timeout=120)
        assert w.returncode == 0

    trials = optuna.load_study(study_name=name, storage=postgres_url).get_trials(deepcopy=False)
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in trials)
    assert sorted(t.number for t in trials) == list(range(10))
    pids = Counter(t.user_attrs["pid"] for t in trials)
    assert pids == {w.pid: 5 for w in workers}
