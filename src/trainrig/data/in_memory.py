"""A data module for data sets small enough to hold in memory as tensors."""

from __future__ import annotations

from collections.abc import Sequence

import pytorch_lightning as pl
import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader, Sampler, TensorDataset

from trainrig.data.normalization import Standardize, channel_stats, column_stats, given_stats
from trainrig.data.sample_dataset import SampleDataset
from trainrig.data.sharded_batches import sharded_batches
from trainrig.data.targets import Targets

Split = tuple[Tensor, Tensor]


class InMemoryDataModule(pl.LightningDataModule):
    """Train/val/test tensors in memory, moved to the training device once at setup.

    Inputs stay in their stored dtype (uint8 images take a quarter of float32's room) until a
    batch is on the device, where `rescale` turns them into floats (Keras' `rescale`, e.g. 1/255).
    A batch is one indexing operation: no per-sample collate, no loader workers. Batches are
    split across data-parallel processes here (`sharded_batches`), not by Lightning's sampler.
    `targets` says what the labels are (`data/targets.py`); `num_outputs` is the number of
    classes, of regression values or of labels per sample.
    """

    shards_itself = True  # the Trainer leaves its samplers alone (use_distributed_sampler=False)

    def __init__(
        self,
        train: Split,
        val: Split,
        test: Split,
        num_outputs: int,
        batch_size: int,
        normalize: bool = True,
        rescale: float = 1.0,
        mean: Sequence[float] | None = None,
        std: Sequence[float] | None = None,
        targets: Targets = "classes",
    ) -> None:
        super().__init__()
        self.splits = {"train": train, "val": val, "test": test}
        self.num_outputs = num_outputs
        self.targets: Targets = targets
        self.output_names: list[str] | None = None  # class or column names, where known
        self.batch_size = batch_size
        self.normalize = normalize
        self.rescale = rescale
        self.given_stats: tuple[Sequence[float], Sequence[float]] | None = (
            (mean, std) if mean is not None and std is not None else None
        )
        # Per-sample CPU augmentation (torchvision v2); training batches then come from workers.
        self.train_transform: nn.Module | None = None
        self.num_workers = 2
        self.batch_size_scope = "per_device"  # or "global"; set from the config by the runner
        self.shuffle_seed = 0  # each epoch's order is drawn from this seed plus the epoch

    @property
    def num_classes(self) -> int:
        """The former name of `num_outputs`."""
        return self.num_outputs

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Shape of one input sample, e.g. (channels, height, width)."""
        return tuple(self.splits["train"][0].shape[1:])

    def split_sizes(self) -> dict[str, int]:
        """Number of samples in each split."""
        return {name: len(y) for name, (_, y) in self.splits.items()}

    def to_float(self, x: Tensor) -> Tensor:
        """Stored inputs -> float32 model inputs (times `rescale`); runs on the device."""
        return x.to(torch.float32) * self.rescale

    def normalization_stats(self) -> tuple[Tensor, Tensor]:
        """Per-channel (or per-feature) mean and std: given in config, or of the training split."""
        if self.given_stats is not None:
            return given_stats(*self.given_stats, dims=1 + len(self.input_shape))
        return channel_stats(self.to_float(self.splits["train"][0]))

    def target_stats(self) -> tuple[Tensor, Tensor] | None:
        """Regression (`values`): each target column's mean and std (k,) over the training
        split; None for class indices and multi-hot labels."""
        return column_stats(self.splits["train"][1]) if self.targets == "values" else None

    def normalization(self) -> nn.Module:
        """Standardization with `normalization_stats`, or identity when `normalize` is off."""
        if not self.normalize:
            return nn.Identity()
        return Standardize(*self.normalization_stats())

    def setup(self, stage: str) -> None:
        """Move every split to the training device once, so batches need no transfer."""
        if self.trainer is None or self.train_transform is not None:
            return
        device = self.trainer.strategy.root_device
        self.splits = {k: (x.to(device), y.to(device)) for k, (x, y) in self.splits.items()}

    def _overfitting(self) -> bool:
        """`trainer.overfit_batches` (debug=overfit): the same batches every epoch."""
        overfit = getattr(self.trainer, "overfit_batches", 0)  # set by Lightning, not typed
        return bool(overfit)

    def _batches(self, split: str, training: bool) -> Sampler[list[int]]:
        size = len(self.splits[split][1])
        shuffled = training and not self._overfitting()
        return sharded_batches(
            self.trainer, size, self.batch_size, self.batch_size_scope, shuffled, self.shuffle_seed
        )

    def _loader(self, split: str, training: bool) -> DataLoader[tuple[Tensor, ...]]:
        dataset = TensorDataset(*self.splits[split])
        if self._overfitting():
            # Lightning replaces a loader's `sampler` by a sequential one per sample when
            # overfitting; the batches as a `batch_sampler` it leaves alone
            return DataLoader(dataset, batch_sampler=list(self._batches(split, training)))
        return DataLoader(dataset, sampler=self._batches(split, training), batch_size=None)

    def train_dataloader(self) -> DataLoader[tuple[Tensor, ...]]:
        if self.train_transform is None:
            return self._loader("train", training=True)
        x, y = (t.cpu() for t in self.splits["train"])
        dataset = SampleDataset(x.__getitem__, y, self.train_transform)
        return DataLoader(
            dataset,
            batch_sampler=self._batches("train", training=True),
            num_workers=self.num_workers,
            pin_memory=torch.cuda.is_available(),
            persistent_workers=self.num_workers > 0,
        )

    def val_dataloader(self) -> DataLoader[tuple[Tensor, ...]]:
        return self._loader("val", training=False)

    def test_dataloader(self) -> DataLoader[tuple[Tensor, ...]]:
        return self._loader("test", training=False)


def with_channel_axis(x: Tensor) -> Tensor:
    """(N, H, W) -> (N, 1, H, W); (N, H, W, C) channel-last uint8 images -> (N, C, H, W)."""
    if x.dim() == 3:
        return x.unsqueeze(1)
    if x.dim() == 4 and x.shape[-1] in (1, 3, 4) and x.shape[1] not in (1, 3, 4):
        return x.permute(0, 3, 1, 2).contiguous()
    return x
