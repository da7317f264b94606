"""The LightningModule that trains any `nn.Module` for a built-in task: loss, metrics, optimizer
and schedule, on-device augmentation, normalization."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import pytorch_lightning as pl
import torch
from torch import Tensor, nn
from torchmetrics import MeanMetric, Metric

from trainrig.data.sharded_batches import data_parallel_share
from trainrig.tasks.options import SupervisedTask
from trainrig.training.metric_names import STAGES
from trainrig.training.optimizers import OptimizerFactory, scale_learning_rates
from trainrig.training.schedules import build_constant

# (optimizer, total_steps) -> Lightning scheduler config; see trainrig.training.schedules.
SchedulerFactory = Callable[..., dict[str, Any]]


class ExtraLoss(Protocol):
    """A term mixed into the training loss (distillation's `Distiller`), set on `extra_loss`."""

    def loss(
        self, student_logits: Tensor, inputs: Tensor, hard_loss: Tensor
    ) -> tuple[Tensor, Tensor]:
        """(the loss to minimize, the extra term, logged as `train/distill_loss`) for a batch."""
        ...


class SupervisedModule(pl.LightningModule):
    """A model trained for a built-in task (classification, multi-label, regression).

    `forward` takes float inputs already rescaled (e.g. pixels in [0, 1]), normalizes them and
    de-standardizes the outputs of a regression (`output_scale`). Logs `{train,val,test}/loss`
    and each chosen metric (`metrics`: logged name -> torchmetrics object, built per stage by
    `make_metrics`) once per epoch: steps only update torchmetrics states (synchronized across
    processes), since a `self.log` call per step costs as much as a small model's forward pass.
    Augmentation runs on training batches after they reach the device; normalization is part of
    `forward`, so a saved model needs no extra step.
    """

    def __init__(
        self,
        model: nn.Module,
        task: SupervisedTask,
        make_metrics: Callable[[], dict[str, Metric]],
        optimizer: OptimizerFactory,
        scheduler: SchedulerFactory | None = None,
        augmentation: nn.Module | None = None,
        normalization: nn.Module | None = None,
        rescale: float = 1.0,
        lr_scaling: str = "none",
        output_scale: nn.Module | None = None,
    ) -> None:
        super().__init__()
        self.model = model
        self.task = task
        self.normalization = normalization or nn.Identity()
        self.output_scale = output_scale or nn.Identity()
        self.augmentation = augmentation
        self.rescale = rescale
        self.optimizer_factory = optimizer
        self.scheduler_factory = scheduler or build_constant  # logs train/lr even with none
        self.lr_scaling = lr_scaling  # with the number of data-parallel processes (optim.py)
        for stage in STAGES:
            setattr(self, f"{stage}_metrics", nn.ModuleDict(make_metrics()))
            setattr(self, f"{stage}_loss", MeanMetric())
        self.distiller: ExtraLoss | None = None  # set by a compression method (distillation)
        self.train_distill_loss = MeanMetric()

    def forward(self, x: Tensor) -> Tensor:
        return self.output_scale(self.model(self.normalization(x)))  # type: ignore[no-any-return]

    def on_after_batch_transfer(self, batch: Any, dataloader_idx: int) -> Any:
        """Stored inputs -> float model inputs (times `rescale`), augmented when training."""
        x, y = batch
        x = x.to(torch.float32) * self.rescale
        if self.augmentation is not None and self.trainer.training:
            x, y = self.augmentation(x, y)
        return x, y

    def _step(self, batch: tuple[Tensor, Tensor], stage: str) -> Tensor:
        x, y = batch
        logits = self(x)
        loss = self.task.loss(logits, y)  # classes: indices, or soft targets of a mixed batch
        predictions, targets = self.task.for_metrics(logits.detach(), y)
        for metric in getattr(self, f"{stage}_metrics").values():
            metric.update(predictions, targets)
        getattr(self, f"{stage}_loss").update(loss.detach(), weight=len(y))
        if stage == "train" and self.distiller is not None:
            loss, soft = self.distiller.loss(logits, x, loss)
            self.train_distill_loss.update(soft.detach(), weight=len(y))
        return loss

    def _log_epoch(self, stage: str) -> None:
        """Log the epoch's mean loss and metrics; Lightning computes, syncs and resets them."""
        self.log(f"{stage}/loss", getattr(self, f"{stage}_loss"), prog_bar=True)
        for name, metric in getattr(self, f"{stage}_metrics").items():
            self.log(f"{stage}/{name}", metric, prog_bar=True)

    def on_train_epoch_end(self) -> None:
        self._log_epoch("train")
        if self.distiller is not None:
            self.log("train/distill_loss", self.train_distill_loss, prog_bar=True)

    def on_validation_epoch_end(self) -> None:
        self._log_epoch("val")

    def on_test_epoch_end(self) -> None:
        self._log_epoch("test")

    def training_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> Tensor:
        return self._step(batch, "train")

    def validation_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> None:
        self._step(batch, "val")

    def test_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> None:
        self._step(batch, "test")

    def predict_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> Tensor:
        """The outputs for a batch's inputs (its targets, if any, are not used)."""
        return self(batch[0])  # type: ignore[no-any-return]

    def configure_model(self) -> None:
        """Under strategy=model_parallel, split the model's layers across the tensor-parallel
        devices (once: Lightning calls this hook again for validation and testing)."""
        mesh = self.device_mesh
        if mesh is None or getattr(self, "_tensor_parallel", False):
            return
        from trainrig.models.tensor_parallel import parallelize

        parallelize(self.model, mesh["tensor_parallel"])
        self._tensor_parallel = True

    def configure_optimizers(self) -> Any:
        return configured_optimizers(
            self, self.optimizer_factory, self.scheduler_factory, self.lr_scaling
        )


def configured_optimizers(
    module: pl.LightningModule,
    optimizer_factory: OptimizerFactory,
    scheduler_factory: SchedulerFactory,
    lr_scaling: str,
) -> dict[str, Any]:
    """What `configure_optimizers` returns for the config's optimizer and schedule: the lr
    scaled with the data-parallel processes, the schedule sized by the run's total steps."""
    optimizer = optimizer_factory(module)
    processes, _ = data_parallel_share(module.trainer)
    scale_learning_rates(optimizer, lr_scaling, processes)
    total_steps = int(module.trainer.estimated_stepping_batches)
    return {"optimizer": optimizer, "lr_scheduler": scheduler_factory(optimizer, total_steps)}
