"""A data module for data sets small enough to hold in memory as tensors."""

from __future__ import annotations

import pytorch_lightning as pl
import torch
from torch import Tensor, nn
from torch.utils.data import (
    BatchSampler,
    DataLoader,
    RandomSampler,
    SequentialSampler,
    TensorDataset,
)

from trainrig.data.normalization import Standardize

Split = tuple[Tensor, Tensor]


class InMemoryDataModule(pl.LightningDataModule):
    """Train/val/test tensors in memory; a batch is one indexing op, with no per-sample collate."""

    def __init__(
        self,
        train: Split,
        val: Split,
        test: Split,
        num_classes: int,
        batch_size: int,
        normalize: bool,
    ) -> None:
        super().__init__()
        self.splits = {"train": train, "val": val, "test": test}
        self.num_classes = num_classes
        self.batch_size = batch_size
        self.normalize = normalize

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Shape of one input sample, e.g. (channels, height, width)."""
        return tuple(self.splits["train"][0].shape[1:])

    def split_sizes(self) -> dict[str, int]:
        """Number of samples in each split."""
        return {name: len(y) for name, (_, y) in self.splits.items()}

    def normalization(self) -> nn.Module:
        """Per-channel standardization with statistics of the training split, or identity."""
        if not self.normalize:
            return nn.Identity()
        x = self.splits["train"][0]
        dims = [d for d in range(x.dim()) if d != 1]  # all but the channel (or feature) axis
        mean, std = x.mean(dim=dims, keepdim=True), x.std(dim=dims, keepdim=True)
        return Standardize(mean, std.clamp_min(1e-6))

    def _loader(self, split: str, shuffle: bool) -> DataLoader[tuple[Tensor, ...]]:
        dataset = TensorDataset(*self.splits[split])
        order = RandomSampler(dataset) if shuffle else SequentialSampler(dataset)
        batches = BatchSampler(order, batch_size=self.batch_size, drop_last=False)
        return DataLoader(dataset, sampler=batches, batch_size=None)

    def train_dataloader(self) -> DataLoader[tuple[Tensor, ...]]:
        return self._loader("train", shuffle=True)

    def val_dataloader(self) -> DataLoader[tuple[Tensor, ...]]:
        return self._loader("val", shuffle=False)

    def test_dataloader(self) -> DataLoader[tuple[Tensor, ...]]:
        return self._loader("test", shuffle=False)


def as_float_images(x: Tensor) -> Tensor:
    """Add a channel axis to (N, H, W) images; inputs stay float32."""
    x = x.to(torch.float32)
    return x.unsqueeze(1) if x.dim() == 3 else x
