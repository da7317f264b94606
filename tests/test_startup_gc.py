"""The `trainrig` command imports its stack without full garbage collections, then trains with
the collector on (trainrig.startup_gc)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

# Runs the real command in-process and prints, at its exit, what the collector did.
SCRIPT = """
import atexit, gc, json, sys

full_before_resume, collections_after = [], []

def record(phase, info):
    if phase != "start":
        return
    if gc.get_freeze_count() == 0 and info["generation"] == 2:
        full_before_resume.append(len(gc.get_objects()))
    elif gc.get_freeze_count() > 0:
        collections_after.append(info["generation"])

gc.callbacks.append(record)
atexit.register(lambda: print(json.dumps({
    "enabled": gc.isenabled(), "frozen": gc.get_freeze_count(),
    "full_before_resume": full_before_resume, "collections_after": len(collections_after),
})))
from trainrig.cli import run
sys.argv = ["trainrig", *sys.argv[1:]]
run()
"""

SMOKE = ["trainer=smoke", "trainer.max_epochs=2"]
SWEEP = [
    "-m", "hydra/sweeper=optuna", "hydra.sweeper.n_trials=1", "hydra.sweep.dir=sweep",
    "optimizer.lr=interval(0.001,0.01)",
]  # fmt: skip


@pytest.mark.parametrize("mode", ["run", "sweep"])
def test_imports_skip_full_collections_and_training_collects(tmp_path: Path, mode: str) -> None:
    args = ["train", *(SWEEP if mode == "sweep" else ["hydra.run.dir=run"]), *SMOKE]
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["full_before_resume"] == []  # no full collection while importing the stack
    assert seen["frozen"] > 100_000  # torch, Lightning and Hydra's objects, skipped from then on
    assert seen["enabled"]
    assert seen["collections_after"] > 0  # the run's garbage was collected as it trained


RESUME_TWICE = """
import gc
from trainrig.startup_gc import pause_collection, resume_collection
pause_collection()
assert not gc.isenabled()
kept = [[object()] for _ in range(1000)]
resume_collection()
frozen = gc.get_freeze_count()
garbage = [[object()] for _ in range(1000)]
resume_collection()  # already on: nothing new is frozen
print(gc.isenabled(), frozen >= 1000, gc.get_freeze_count() == frozen)
"""


def test_resume_freezes_once_and_switches_the_collector_back_on() -> None:
    done = subprocess.run(
        [sys.executable, "-c", RESUME_TWICE], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "True", "True"]


def test_the_collector_is_on_again_when_main_returns_without_a_task(tmp_path: Path) -> None:
    """`trainrig train --cfg job` called in-process prints the config and runs no task."""
    script = (
        "import gc\nfrom trainrig.cli import main\nmain(['train', '--cfg', 'job'])\n"
        "print('collector on:', gc.isenabled())"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("collector on: True")
