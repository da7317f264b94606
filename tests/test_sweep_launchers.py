"""Trials in flight on a launcher that runs jobs elsewhere: hydra-submitit-launcher's local
executor, each job a fresh Python process (seconds each, so few and tiny trials)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import optuna
import pytest
from hydra import compose, initialize_config_dir
from hydra.utils import get_class
from optuna.trial import FrozenTrial, TrialState

from trainrig.config.resolvers import register_resolvers
from trainrig.config.tree import BUILTIN_CONF_DIR
from trainrig.sweeps.in_flight import runs_in_process
from trainrig.sweeps.tally import NOT_COUNTED, counted_trials

from .conftest import CliRunner, run_trainrig

pytest.importorskip("hydra_plugins.hydra_submitit_launcher")

SLOTS = 2
SWEEP = [
    "train", "-m", "hydra/launcher=submitit_local", "hydra/sweeper=optuna", "trainer=smoke",
    "hydra.sweep.dir=sweep", f"hydra.sweeper.n_jobs={SLOTS}", "hydra.sweeper.sampler.seed=0",
    "optimizer.lr=tag(log,interval(1e-3,1e-1))",
    # prunes every trial at its first report (val/acc is below 2), from the job's own process
    "hydra.sweeper.pruner._target_=optuna.pruners.ThresholdPruner", "+hydra.sweeper.pruner.lower=2",
]  # fmt: skip


def _trials(sweep: Path) -> list[FrozenTrial]:
    """The trials that count towards n_trials: two slots that ask for the last trial at the same
    moment both create one, and the later records itself FAIL, not counted, without a job."""
    storage = f"sqlite:///{sweep}/study.db"
    study = optuna.load_study(study_name="trainrig", storage=storage)
    counted = counted_trials(study)
    for surplus in [t for t in study.trials if t not in counted]:
        assert surplus.state == TrialState.FAIL and NOT_COUNTED in surplus.user_attrs
        assert not (sweep / str(surplus.number)).exists()
    return counted


def _most_in_flight(trials: list[FrozenTrial]) -> int:
    """The most trials that were running at one moment (from start to tell)."""
    events: list[tuple[datetime, int]] = []
    for t in trials:
        assert t.datetime_start is not None and t.datetime_complete is not None
        events += [(t.datetime_start, 1), (t.datetime_complete, -1)]
    running = most = 0
    for _, change in sorted(events):  # an end sorts before a start at the same instant
        running += change
        most = max(most, running)
    return most


@pytest.fixture(scope="module")
def first_sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three trials, at most two in flight."""
    cwd = tmp_path_factory.mktemp("launchers")
    result = run_trainrig(*SWEEP, "hydra.sweeper.n_trials=3", cwd=cwd)
    assert result.returncode == 0, result.stderr[-4000:]
    return cwd / "sweep"


@pytest.mark.slow
def test_trials_run_at_once_up_to_n_jobs_and_their_jobs_prune(first_sweep: Path) -> None:
    trials = _trials(first_sweep)
    assert [t.state for t in trials] == [TrialState.PRUNED] * 3
    assert _most_in_flight(trials) == SLOTS  # two overlapped, never a third
    for t in trials:  # each job reported its first epoch to the study and stopped there
        assert list(t.intermediate_values) == [0]
        assert (first_sweep / str(t.number) / "train.log").is_file()
        assert not (first_sweep / str(t.number) / "metrics.json").exists()


@pytest.mark.slow
def test_rerunning_the_command_adds_only_the_missing_trials(
    first_sweep: Path, trainrig_cli: CliRunner
) -> None:
    before = {t.number: t.datetime_complete for t in _trials(first_sweep)}
    result = trainrig_cli(*SWEEP, "hydra.sweeper.n_trials=4", cwd=first_sweep.parent)
    assert result.returncode == 0, result.stderr[-4000:]
    trials = _trials(first_sweep)
    assert len(trials) == 4
    assert {t.number: t.datetime_complete for t in trials[:3]} == before  # not run again
    assert trials[3].state == TrialState.PRUNED
    job_dirs = sorted(int(p.name) for p in first_sweep.iterdir() if p.name.isdigit())
    assert job_dirs == [t.number for t in trials]


def test_only_hydras_basic_launcher_runs_trials_in_the_sweeps_process(in_repo: Path) -> None:
    """Guards the private import in `runs_in_process`: the class `hydra/launcher=basic` names."""
    register_resolvers()
    launchers = {}
    for name in ("basic", "submitit_local"):
        with initialize_config_dir(config_dir=str(BUILTIN_CONF_DIR), version_base="1.3"):
            cfg = compose("train", [f"hydra/launcher={name}"], return_hydra_config=True)
        launchers[name] = get_class(cfg.hydra.launcher._target_)()
    assert runs_in_process(launchers["basic"])
    assert not runs_in_process(launchers["submitit_local"])
