"""Early stopping that can leave the best epoch's weights in the model, like Keras does."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import pytorch_lightning as pl
import torch
from pytorch_lightning.callbacks import EarlyStopping as LightningEarlyStopping
from torch import Tensor

from trainrig.models.tensor_parallel import load_whole_state, whole_state


@runtime_checkable
class KeepsBestStatePerStage(Protocol):
    """A strategy whose processes each hold part of the model (strategy=pipeline's stages)."""

    def best_module_state(self) -> dict[str, Tensor]:
        """A copy of the whole module's state on process 0 (which writes checkpoints), of its own
        part on the others (a collective)."""
        ...

    def kept_part(self, state: dict[str, Tensor]) -> dict[str, Tensor]:
        """The part of a whole module's state (a resumed checkpoint's) this process keeps."""
        ...


def _best_state(trainer: pl.Trainer) -> dict[str, Tensor]:
    """A copy of the weights a checkpoint keeps and this process needs to restore them."""
    if isinstance(trainer.strategy, KeepsBestStatePerStage):
        return trainer.strategy.best_module_state()
    return whole_state(trainer.lightning_module)


class EarlyStopping(LightningEarlyStopping):
    """Lightning's EarlyStopping, plus `restore_best`: when fitting ends, for whatever reason, the
    model holds the weights of the epoch with the best `monitor` value, not the last epoch's."""

    def __init__(self, *, restore_best: bool = False, **options: Any) -> None:
        super().__init__(**options)
        self.restore_best = restore_best
        self.best_epoch: int | None = None
        self._best_weights: dict[str, Tensor] | None = None

    # Lightning checks in one of these two hooks (which one depends on check_on_train_epoch_end);
    # a check that improved `best_score` marks this epoch as the best.
    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """A resumed pipeline stage keeps only its part of the checkpoint's best weights."""
        super().on_train_start(trainer, pl_module)
        if self._best_weights is not None and isinstance(trainer.strategy, KeepsBestStatePerStage):
            self._best_weights = trainer.strategy.kept_part(self._best_weights)

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        previous_best = self.best_score.clone()
        super().on_train_epoch_end(trainer, pl_module)
        self._note_improvement(trainer, previous_best)

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        previous_best = self.best_score.clone()
        super().on_validation_end(trainer, pl_module)
        self._note_improvement(trainer, previous_best)

    def _note_improvement(self, trainer: pl.Trainer, previous_best: Tensor) -> None:
        if torch.equal(previous_best, self.best_score):
            return
        self.best_epoch = trainer.current_epoch
        if self.restore_best:
            self._best_weights = _best_state(trainer)

    def forget_best(self) -> None:
        """Start again as if no epoch had been seen (the model changed, e.g. it was pruned)."""
        self.wait_count = 0
        self.best_score = torch.tensor(torch.inf if self.monitor_op == torch.lt else -torch.inf)
        self.best_epoch = None
        self._best_weights = None

    def state_dict(self) -> dict[str, Any]:
        """Lightning's state plus the best epoch (and its weights), so a resumed run has them."""
        return {
            **super().state_dict(),
            "best_epoch": self.best_epoch,
            "best_weights": self._best_weights,
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        super().load_state_dict(state_dict)
        self.best_epoch = state_dict.get("best_epoch")
        self._best_weights = state_dict.get("best_weights")

    def on_fit_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self.restore_best and self._best_weights is not None:
            load_whole_state(pl_module, self._best_weights)  # a stage loads its own part
