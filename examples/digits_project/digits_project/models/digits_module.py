"""A LightningModule of the project's own: a small MLP that classifies the 8x8 digits.

It defines no `configure_optimizers`, so trainrig gives it the config's optimizer and schedule
(`optimizer=adam optimizer.lr=...`). It logs `train/loss`, `val/loss`, `val/acc`, its own
`val/f1_macro`, and the same on the test split.
"""

from __future__ import annotations

import pytorch_lightning as pl
import torch
from torch import nn
from torchmetrics import MetricCollection
from torchmetrics.classification import MulticlassAccuracy, MulticlassF1Score


class DigitsModule(pl.LightningModule):
    """Flatten, `hidden_size` ReLU units with dropout, ten logits; cross-entropy."""

    def __init__(self, hidden_size: int = 64, dropout: float = 0.1, num_classes: int = 10) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.net = nn.Sequential(
            nn.Flatten(),
            nn.Linear(64, hidden_size),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden_size, num_classes),
        )
        metrics = MetricCollection(
            {
                "acc": MulticlassAccuracy(num_classes, average="micro"),
                "f1_macro": MulticlassF1Score(num_classes, average="macro"),
            }
        )
        self.val_metrics = metrics.clone(prefix="val/")
        self.test_metrics = metrics.clone(prefix="test/")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits: torch.Tensor = self.net(x)
        return logits

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], _: int) -> torch.Tensor:
        x, y = batch
        loss = nn.functional.cross_entropy(self(x), y)
        self.log("train/loss", loss, on_step=False, on_epoch=True)
        return loss

    def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], _: int) -> None:
        self._evaluate(batch, "val", self.val_metrics)

    def test_step(self, batch: tuple[torch.Tensor, torch.Tensor], _: int) -> None:
        self._evaluate(batch, "test", self.test_metrics)

    def predict_step(self, batch: tuple[torch.Tensor, torch.Tensor], _: int) -> torch.Tensor:
        """Class probabilities for a batch's images (`trainrig predict`); its labels are unused."""
        x, _labels = batch
        return self(x).softmax(dim=1)

    def _evaluate(
        self, batch: tuple[torch.Tensor, torch.Tensor], stage: str, metrics: MetricCollection
    ) -> None:
        x, y = batch
        logits = self(x)
        self.log(f"{stage}/loss", nn.functional.cross_entropy(logits, y))
        metrics.update(logits, y)
        self.log_dict(metrics)
