"""Which trials count towards `n_trials`, shared by every worker of a study.

A trial counts unless it was superseded by a retry (its worker died and its parameters were
queued again: Optuna's RetryHeartbeatStaleTrialCallback lists it in the retry's `retry_history`)
or a worker marked it NOT_COUNTED (it lost the race for the last trial). Running and waiting trials
count: they will finish.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

NOT_COUNTED = "not_counted"  # user attribute: why a trial does not count towards n_trials


def counted_trials(study: Any) -> list[Any]:
    """The study's trials that count towards `n_trials`, in number order."""
    trials = study.get_trials(deepcopy=False)
    superseded = {n for t in trials for n in t.system_attrs.get("retry_history", ())}
    return [t for t in trials if t.number not in superseded and NOT_COUNTED not in t.user_attrs]


@dataclass(frozen=True)
class Tally:
    """Counted trials by state name (COMPLETE, PRUNED, FAIL, RUNNING, WAITING)."""

    states: Counter[str]

    @classmethod
    def of(cls, study: Any) -> Tally:
        return cls(Counter(t.state.name for t in counted_trials(study)))

    @property
    def total(self) -> int:
        return sum(self.states.values())

    @property
    def finished(self) -> int:
        return self.states["COMPLETE"] + self.states["PRUNED"] + self.states["FAIL"]

    def has_work(self, n_trials: int) -> bool:
        """Whether a worker should start a trial: room below n_trials, or a queued retry."""
        return self.total < n_trials or self.states["WAITING"] > 0


def is_surplus(study: Any, trial_number: int, n_trials: int) -> bool:
    """Whether n_trials counted trials were created before this one (another worker won)."""
    earlier = [t for t in counted_trials(study) if t.number < trial_number]
    return len(earlier) >= n_trials
