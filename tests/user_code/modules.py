"""Small LightningModules and a data module in the shape users write them."""

from __future__ import annotations

from typing import Any

import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class Blobs(pl.LightningDataModule):
    """Two Gaussian blobs in 4 dimensions: (x float32, y int64 class) batches."""

    num_classes = 2

    def __init__(self, samples: int = 96, batch_size: int = 16) -> None:
        super().__init__()
        generator = torch.Generator().manual_seed(0)
        self.y = torch.arange(samples) % 2
        self.x = torch.randn(samples, 4, generator=generator) + 2.0 * self.y[:, None]
        self.batch_size = batch_size

    def _loader(self, part: slice) -> DataLoader[Any]:
        return DataLoader(TensorDataset(self.x[part], self.y[part]), batch_size=self.batch_size)

    def train_dataloader(self) -> DataLoader[Any]:
        return self._loader(slice(0, 64))

    def val_dataloader(self) -> DataLoader[Any]:
        return self._loader(slice(64, 80))

    def test_dataloader(self) -> DataLoader[Any]:
        return self._loader(slice(80, 96))


class DictBlobs(Blobs):
    """The same data as {"x": ..., "y": ...} batches: not (inputs, targets) pairs."""

    def _loader(self, part: slice) -> DataLoader[Any]:
        pairs = [{"x": x, "y": y} for x, y in zip(self.x[part], self.y[part], strict=True)]
        return DataLoader(pairs, batch_size=self.batch_size)  # type: ignore[arg-type]


class LinearModule(pl.LightningModule):
    """A linear classifier that logs train/loss, val/loss and val/hits (its own metric)."""

    def __init__(self, width: int = 4) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(width, 2)

    def _loss(self, batch: Any) -> tuple[torch.Tensor, torch.Tensor]:
        x, y = batch
        logits = self.layer(x)
        return F.cross_entropy(logits, y), (logits.argmax(1) == y).float().mean()

    def training_step(self, batch: Any, index: int) -> torch.Tensor:
        loss, _ = self._loss(batch)
        self.log("train/loss", loss)
        return loss

    def validation_step(self, batch: Any, index: int) -> None:
        loss, hits = self._loss(batch)
        self.log_dict({"val/loss": loss, "val/hits": hits})

    def test_step(self, batch: Any, index: int) -> None:
        loss, hits = self._loss(batch)
        self.log_dict({"test/loss": loss, "test/hits": hits})


class NoValidation(pl.LightningModule):
    """A module with a training step only."""

    def __init__(self) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(4, 2)

    def training_step(self, batch: Any, index: int) -> torch.Tensor:
        x, y = batch
        return F.cross_entropy(self.layer(x), y)


def build_linear(input_shape: tuple[int, ...], num_outputs: int) -> torch.nn.Module:
    """A plain nn.Module builder (model group contract: input shape, number of outputs)."""
    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(input_shape[0], num_outputs))


class LinearWithForward(LinearModule):
    """LinearModule with a forward(x), which compression measures and exports through."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layer(x)  # type: ignore[no-any-return]


class NoTest(LinearModule):
    """LinearModule without a test step: trained and validated, not tested."""

    test_step = pl.LightningModule.test_step
