"""Iterative pruning during training: the schedule of `compression=prune_iterative`.

Weights are pruned at the end of epochs `start_epoch`, `start_epoch + every_n_epochs`, ... for
`steps` steps. The pruned share follows Zhu & Gupta's cubic ramp (2017), fast at first and gentle
near the end: after step k of n it is `amount * (1 - (1 - k/n)^3)`, so the last step reaches
`amount`. The training goes on with the masks in place (`scheduled_pruning.py`, built on
Lightning's ModelPruning), which fold into the weights before saving.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from trainrig.compression.scheduled_pruning import ScheduledPruning

# The dense weights just before the first pruning step: the report's "before" side.
DENSE_FILE = "before_pruning.pt"


@dataclass(frozen=True)
class IterativePruning:
    """How much to prune, how (`global_l1`, `global_random`, `l1`, `random`) and when."""

    method: str = "global_l1"
    amount: float = 0.8
    start_epoch: int = 2
    every_n_epochs: int = 2
    steps: int = 5
    name: str = "prune_iterative"
    export: str | None = None  # "onnx": also write model.onnx, checked against onnxruntime

    def schedule(self) -> dict[int, float]:
        """The share of weights pruned once each pruning epoch ends, by epoch (from 0)."""
        return {
            self.start_epoch + step * self.every_n_epochs: self.amount
            * (1 - (1 - (step + 1) / self.steps) ** 3)
            for step in range(self.steps)
        }

    def callback(self, checkpoint_dir: Path) -> ScheduledPruning:
        """The Lightning callback that prunes on this schedule."""
        return ScheduledPruning(
            self.schedule(),
            randomly=self.method.endswith("random"),
            across_layers=self.method.startswith("global"),
            dense_path=checkpoint_dir / DENSE_FILE,
        )
