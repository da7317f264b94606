"""The sweep's storage: a trial whose worker died before its first heartbeat is re-queued."""

from __future__ import annotations

import time
from pathlib import Path

import optuna
from optuna.trial import TrialState

from trainrig.sweeps.storage import WORKER, fail_stale_trials, open_study
from trainrig.sweeps.tally import Tally

SETTINGS = {"heartbeat_interval": 1, "grace_period": 1, "max_retries": 3}


def _study(sweep_dir: Path) -> optuna.Study:
    sampler = optuna.samplers.RandomSampler(seed=0)
    return open_study(SETTINGS, sweep_dir, sampler, None, ["val/acc"], ["maximize"])


def test_a_trial_whose_worker_died_before_its_first_heartbeat_is_failed_and_queued_again(
    tmp_path: Path,
) -> None:
    study = _study(tmp_path)
    orphan = study.ask()  # created RUNNING by a worker that died at once: no beat, no objective
    started = study.ask()
    started.set_user_attr(WORKER, "elsewhere:1")  # its objective began; the heartbeat rules it
    fail_stale_trials(study)
    assert study.trials[orphan.number].state == TrialState.RUNNING  # still within grace

    time.sleep(1.5)
    fail_stale_trials(_study(tmp_path))  # another worker looks

    trials = _study(tmp_path).trials
    assert trials[orphan.number].state == TrialState.FAIL
    assert trials[started.number].state == TrialState.RUNNING
    (retry,) = [t for t in trials if t.state == TrialState.WAITING]
    assert retry.system_attrs["retry_history"] == [orphan.number]
    tally = Tally.of(_study(tmp_path))
    assert (tally.states["WAITING"], tally.states["RUNNING"], tally.states["FAIL"]) == (1, 1, 0)
