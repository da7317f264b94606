"""The `trainrig` command imports its stack without full garbage collections, then trains with
the collector on (trainrig.cli.startup_gc)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

# Runs the real command in-process and prints, at its exit, what the collector did.
SCRIPT = """
import atexit, gc, json, sys

full_before_resume, collections_after, frozen = [], [], []

def record(phase, info):
    if phase != "start":
        return
    if not frozen and gc.get_freeze_count() > 0:  # counting walks the frozen objects: once
        frozen.append(True)
    if not frozen and info["generation"] == 2:
        full_before_resume.append(len(gc.get_objects()))
    elif frozen:
        collections_after.append(info["generation"])

gc.callbacks.append(record)
atexit.register(lambda: print(json.dumps({
    "enabled": gc.isenabled(), "frozen": gc.get_freeze_count(),
    "full_before_resume": full_before_resume, "collections_after": len(collections_after),
})))
from trainrig.cli.main import run
sys.argv = ["trainrig", *sys.argv[1:]]
run()
"""

SMOKE = ["trainer=smoke", "trainer.max_epochs=2"]
SWEEP = [
    "-m", "hydra/sweeper=optuna", "hydra.sweeper.n_trials=1", "hydra.sweep.dir=sweep",
    "optimizer.lr=interval(0.001,0.01)",
]  # fmt: skip


def _run_recorded(script: str, args: list[str], cwd: Path) -> dict[str, Any]:
    """Run `script` (which runs `trainrig` with `args`) and return the JSON its last line prints."""
    done = subprocess.run(
        [sys.executable, "-c", script, *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    recorded: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return recorded


@pytest.mark.parametrize("mode", ["run", "sweep"])
def test_imports_skip_full_collections_and_training_collects(tmp_path: Path, mode: str) -> None:
    args = ["train", *(SWEEP if mode == "sweep" else ["hydra.run.dir=run"]), *SMOKE]
    seen = _run_recorded(SCRIPT, args, tmp_path)
    assert seen["full_before_resume"] == []  # no full collection while importing the stack
    assert seen["frozen"] > 100_000  # torch, Lightning and Hydra's objects, skipped from then on
    assert seen["enabled"]
    assert seen["collections_after"] > 0  # the run's garbage was collected as it trained


RESUME_TWICE = """
import gc
from trainrig.cli.startup_gc import pause_collection, resume_collection
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
        "import gc\nfrom trainrig.cli.main import main\nmain(['train', '--cfg', 'job'])\n"
        "print('collector on:', gc.isenabled())"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("collector on: True")


# Records how many objects are frozen at each trial's start, and whether the first trial's
# garbage was collected before it was frozen.
SWEEP_SCRIPT = """
import gc, json, sys, weakref
import optuna.study._optimize as optimize

frozen_at_trial_start, first_trial_garbage = [], []
run_trial = optimize._run_trial

class Garbage:
    pass

def recorded(*args, **kwargs):
    frozen_at_trial_start.append(gc.get_freeze_count())
    if not first_trial_garbage:
        cycle = Garbage()
        cycle.itself = cycle  # garbage that only the cyclic collector frees
        first_trial_garbage.append(weakref.ref(cycle))
        del cycle
    return run_trial(*args, **kwargs)

optimize._run_trial = recorded
from trainrig.cli.main import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print(json.dumps({"frozen": frozen_at_trial_start, "freed": first_trial_garbage[0]() is None}))
"""


def test_a_sweep_freezes_what_its_first_trial_left_alive_once(tmp_path: Path) -> None:
    seen = _run_recorded(
        SWEEP_SCRIPT, ["train", *SWEEP, "hydra.sweeper.n_trials=3", *SMOKE], tmp_path
    )
    first, second, third = seen["frozen"]
    assert second > first > 100_000  # the first trial's imports and caches were frozen too
    assert third <= second  # once: later trials' objects stay collectable (frozen ones may die)
    assert seen["freed"]  # garbage from the first trial was collected, not frozen
