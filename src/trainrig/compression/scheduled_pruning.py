"""Lightning's ModelPruning on a schedule of target sparsities, exact to the weight.

ModelPruning prunes a fraction of the weights still left at each step, which compounds and rounds
once per step. Here each step is given the share that should be pruned by then and prunes the
count that reaches it (`round(share * size)` of every layer, or of all layers together), so the
final sparsity is the requested one. Lottery-ticket rewinding is off: training goes on from the
pruned weights. Checkpoints save the masks folded into the weights (ModelPruning's
`on_save_checkpoint`); the model in memory is folded when fitting ends.

The epochs before the last step trained a denser model, so when it has been applied "best" starts
again (checkpointing and early stopping forget what they had seen) and training runs at least one
more epoch whatever early stopping says: best.ckpt always holds the final sparsity.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from pytorch_lightning.callbacks import ModelCheckpoint, ModelPruning
from torch import nn
from torch.nn.utils import prune

from trainrig.compression.pruning import PRUNABLE
from trainrig.rundir.checkpoint_io import save_atomic
from trainrig.training.callbacks.early_stopping import EarlyStopping

Weights = list[tuple[nn.Module, str]]


def _pruned(module: nn.Module, name: str) -> int:
    mask = getattr(module, f"{name}_mask", None)
    return int((mask == 0).sum()) if isinstance(mask, torch.Tensor) else 0


class ScheduledPruning(ModelPruning):
    """Prune conv and linear weights to `schedule[epoch]` (a share) as each listed epoch ends."""

    def __init__(
        self,
        schedule: dict[int, float],
        *,
        randomly: bool = False,
        across_layers: bool = True,
        dense_path: Path | None = None,
    ) -> None:
        super().__init__(
            "random_unstructured" if randomly else "l1_unstructured",
            parameter_names=["weight"],
            use_global_unstructured=across_layers,
            amount=lambda epoch: schedule.get(epoch, 0.0),
            make_pruning_permanent=True,
            use_lottery_ticket_hypothesis=False,
        )
        self.schedule = dict(schedule)
        self.across_layers = across_layers
        self.dense_path = dense_path
        self.weights: Weights = []

    def filter_parameters_to_prune(self, parameters_to_prune: Any = ()) -> Weights:
        """Conv and linear weights only, as the one-shot pruning options prune them."""
        self.weights = [(m, n) for m, n in parameters_to_prune if isinstance(m, PRUNABLE)]
        return self.weights

    def apply_pruning(self, amount: int | float) -> None:
        """Prune until `amount` (a share) of the weights, per layer or across them, is zero."""
        if self.across_layers:
            size = sum(getattr(m, n).numel() for m, n in self.weights)
            count = round(amount * size) - sum(_pruned(m, n) for m, n in self.weights)
            if count > 0:
                prune.global_unstructured(
                    self.weights, pruning_method=self.pruning_fn, amount=count
                )
            return
        for module, name in self.weights:
            count = round(amount * getattr(module, name).numel()) - _pruned(module, name)
            if count > 0:
                self.pruning_fn(module, name=name, amount=count)  # type: ignore[call-arg]

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        last_epoch = max(self.schedule)  # one more epoch must run after it, at full sparsity
        trainer.fit_loop.min_epochs = max(trainer.fit_loop.min_epochs or 0, last_epoch + 2)

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        epoch = pl_module.current_epoch
        if epoch == min(self.schedule) and self.dense_path is not None and trainer.is_global_zero:
            self.dense_path.parent.mkdir(parents=True, exist_ok=True)
            dense = {k: v.detach().cpu() for k, v in pl_module.state_dict().items()}
            save_atomic(dense, self.dense_path)
        super().on_train_epoch_end(trainer, pl_module)
        if epoch == max(self.schedule):
            _forget_best(trainer)

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """Keep the masks until `on_fit_end`, after early stopping restored its best weights."""

    def on_fit_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.make_pruning_permanent(pl_module)


def _forget_best(trainer: pl.Trainer) -> None:
    """Let checkpointing and early stopping start again from the fully pruned model."""
    for checkpoint in trainer.checkpoint_callbacks:
        if isinstance(checkpoint, ModelCheckpoint):
            checkpoint.best_k_models = {}
            checkpoint.best_model_path = checkpoint.kth_best_model_path = ""
            checkpoint.best_model_score = None
    for stopping in trainer.early_stopping_callbacks:
        if isinstance(stopping, EarlyStopping):
            stopping.forget_best()
