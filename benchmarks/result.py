"""The figure one benchmark reports: a measured value against a baseline from the same run."""

from __future__ import annotations

import json
from dataclasses import dataclass


@dataclass(frozen=True)
class Result:
    """`value` and `baseline` in `unit`; the benchmark passes when `value / baseline <= goal`."""

    benchmark: str
    value: float
    baseline: float
    goal: float
    unit: str = "s"
    detail: str = ""
    also_met: bool = True  # a second condition of the goal (e.g. no accuracy lost), if any

    @property
    def ratio(self) -> float:
        """How many baselines the value is."""
        return self.value / self.baseline

    @property
    def passed(self) -> bool:
        """Whether the ratio meets the goal (and the goal's second condition, if any)."""
        return self.ratio <= self.goal and self.also_met

    def to_json(self) -> str:
        """One JSON line: benchmark, value, baseline, ratio, goal, unit, passed."""
        return json.dumps(
            {
                "benchmark": self.benchmark,
                "value": self.value,
                "baseline": self.baseline,
                "ratio": self.ratio,
                "goal": self.goal,
                "unit": self.unit,
                "passed": self.passed,
            }
        )
