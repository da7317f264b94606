"""Iterative pruning during training: the schedule of `compression=prune_iterative`.

Weights are pruned at the end of epochs `start_epoch`, `start_epoch + every_n_epochs`, ... for
`steps` steps. The pruned share follows Zhu & Gupta's cubic ramp (2017), fast at first and gentle
near the end: after step k of n it is `amount * (1 - (1 - k/n)^3)`, so the last step reaches
`amount`. The training goes on with the masks in place (`scheduled_pruning.py`, built on
Lightning's ModelPruning), which fold into the weights before saving. Whether the schedule fits
`trainer.max_epochs` is a rule across groups (config/cross_group.py).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

from annotated_types import Ge

from trainrig.compression.onnx_files import Export
from trainrig.compression.pruning import Share
from trainrig.compression.run import CompressionSteps
from trainrig.config.signature import option

if TYPE_CHECKING:
    from pytorch_lightning.callbacks import Callback
    from torch import nn

    from trainrig.compression.scheduled_pruning import ScheduledPruning
    from trainrig.training.hooks import CompressionRun
    from trainrig.training.supervised import SupervisedModule

# The dense weights just before the first pruning step: the report's "before" side.
DENSE_FILE = "before_pruning.pt"


@option("compression")
@dataclass(frozen=True)
class IterativePruning(CompressionSteps):
    """How much to prune, how (`global_l1`, `global_random`, `l1`, `random`) and when."""

    method: Literal["global_l1", "global_random", "l1", "random"] = "global_l1"
    amount: Share = 0.8  # the final share, reached by the last step
    start_epoch: Annotated[int, Ge(0)] = 2  # the first step ends this epoch (counted from 0)
    every_n_epochs: Annotated[int, Ge(1)] = 2
    steps: Annotated[int, Ge(1)] = 5
    name: str = "prune_iterative"
    export: Export = None

    def schedule(self) -> dict[int, float]:
        """The share of weights pruned once each pruning epoch ends, by epoch (from 0)."""
        return {
            self.start_epoch + step * self.every_n_epochs: self.amount
            * (1 - (1 - (step + 1) / self.steps) ** 3)
            for step in range(self.steps)
        }

    def callback(self, checkpoint_dir: Path) -> ScheduledPruning:
        """The Lightning callback that prunes on this schedule."""
        from trainrig.compression.scheduled_pruning import ScheduledPruning

        return ScheduledPruning(
            self.schedule(),
            randomly=self.method.endswith("random"),
            across_layers=self.method.startswith("global"),
            dense_path=checkpoint_dir / DENSE_FILE,
        )

    def callbacks(self, run: CompressionRun) -> list[Callback]:
        """The schedule's callback: the model is pruned while it trains, and stays as it is."""
        return [self.callback(run.checkpoint_dir)]

    def reference(self, classifier: SupervisedModule, run: CompressionRun) -> nn.Module:
        """The dense weights saved just before the first pruning step (when there are some)."""
        import torch

        dense = run.checkpoint_dir / DENSE_FILE
        if not dense.is_file():
            return classifier
        reference = copy.deepcopy(classifier)
        reference.load_state_dict(torch.load(dense, map_location="cpu", weights_only=True))
        return reference
