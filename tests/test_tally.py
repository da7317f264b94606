"""Which trials count towards n_trials (sweeps/tally.py), on a real in-memory Optuna study."""

from __future__ import annotations

from collections import Counter

import optuna
from optuna.trial import TrialState

from trainrig.sweeps.tally import NOT_COUNTED, Tally, counted_trials, is_surplus


def _study() -> optuna.Study:
    """Trials 0-6: COMPLETE, FAIL (retried as 5), PRUNED, uncounted, RUNNING, WAITING, COMPLETE."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study()
    study.add_trial(optuna.create_trial(value=1.0))
    study.add_trial(optuna.create_trial(state=TrialState.FAIL))
    study.add_trial(optuna.create_trial(state=TrialState.PRUNED))
    study.add_trial(optuna.create_trial(value=2.0, user_attrs={NOT_COUNTED: "lost the race"}))
    study.add_trial(optuna.create_trial(state=TrialState.RUNNING))
    study.add_trial(
        optuna.create_trial(state=TrialState.WAITING, system_attrs={"retry_history": [1]})
    )
    study.add_trial(optuna.create_trial(value=3.0))
    return study


def test_retried_and_not_counted_trials_do_not_count() -> None:
    assert [t.number for t in counted_trials(_study())] == [0, 2, 4, 5, 6]


def test_the_tally_counts_states_total_and_finished() -> None:
    tally = Tally.of(_study())
    assert tally.states == {"COMPLETE": 2, "PRUNED": 1, "RUNNING": 1, "WAITING": 1}
    assert (tally.total, tally.finished) == (5, 3)
    failed = Tally(tally.states + Counter(FAIL=2))
    assert failed.finished == 5


def test_work_remains_below_n_trials_or_while_a_retry_waits() -> None:
    tally = Tally.of(_study())
    assert tally.has_work(6)
    assert tally.has_work(5)  # total 5 reached, but trial 5 waits to be run
    done = Tally(tally.states - Counter(WAITING=1))
    assert (done.has_work(5), done.has_work(4), done.has_work(3)) == (True, False, False)


def test_a_trial_is_surplus_once_n_trials_counted_trials_came_before_it() -> None:
    study = _study()
    # counted before trial 5: 0, 2, 4 (1 was retried, 3 did not count)
    assert not is_surplus(study, 5, n_trials=4)
    assert is_surplus(study, 5, n_trials=3)
    assert not is_surplus(study, 0, n_trials=1)
    assert is_surplus(study, 6, n_trials=4)  # 0, 2, 4, 5 came before


def test_a_trial_marked_by_the_stored_attribute_name_does_not_count() -> None:
    """The mark is stored in the study, which workers of other trainrig versions read too: its
    name, `not_counted`, is fixed (spelled out here, not taken from the constant)."""
    study = optuna.create_study()
    study.add_trial(optuna.create_trial(value=1.0, user_attrs={"not_counted": "lost the race"}))
    study.add_trial(optuna.create_trial(value=2.0, user_attrs={"note": "counts"}))
    assert [t.number for t in counted_trials(study)] == [1]
