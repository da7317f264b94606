"""A data module for data sets too large for memory: samples are decoded in loader workers."""

from __future__ import annotations

from collections.abc import Sequence

import pytorch_lightning as pl
import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader

from trainrig.data.normalization import Standardize, channel_stats, column_stats, given_stats
from trainrig.data.sample_dataset import SampleDataset
from trainrig.data.sharded_batches import sharded_batches
from trainrig.data.targets import Targets

STATS_SAMPLES = 2000  # training samples read to estimate normalization statistics


class StreamingDataModule(pl.LightningDataModule):
    """Train/val/test `SampleDataset`s read through DataLoader workers into pinned memory.

    Offers what `InMemoryDataModule` offers (input shape, targets and their number, rescale,
    normalization), so the runner treats both alike. Normalization statistics come from up to
    2,000 training samples.
    Batches are split across data-parallel processes as `InMemoryDataModule` splits them.
    """

    shards_itself = True  # the Trainer leaves its samplers alone (use_distributed_sampler=False)

    def __init__(
        self,
        splits: dict[str, SampleDataset],
        input_shape: Sequence[int],
        num_outputs: int,
        batch_size: int,
        num_workers: int = 2,
        normalize: bool = True,
        rescale: float = 1.0,
        mean: Sequence[float] | None = None,
        std: Sequence[float] | None = None,
        targets: Targets = "classes",
    ) -> None:
        super().__init__()
        self.splits = splits
        self.input_shape = tuple(input_shape)
        self.num_outputs = num_outputs
        self.targets: Targets = targets
        self.output_names: list[str] | None = None  # class or column names, where known
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.normalize = normalize
        self.rescale = rescale
        self.given_stats: tuple[Sequence[float], Sequence[float]] | None = (
            (mean, std) if mean is not None and std is not None else None
        )
        self.train_transform: nn.Module | None = None
        self.batch_size_scope = "per_device"  # or "global"; set from the config by the runner
        self.shuffle_seed = 0  # each epoch's order is drawn from this seed plus the epoch

    @property
    def num_classes(self) -> int:
        """The former name of `num_outputs`."""
        return self.num_outputs

    def split_sizes(self) -> dict[str, int]:
        """Number of samples in each split."""
        return {name: len(dataset) for name, dataset in self.splits.items()}

    def normalization_stats(self) -> tuple[Tensor, Tensor]:
        """Per-channel mean and std: given in config, or estimated on training samples."""
        if self.given_stats is not None:
            return given_stats(*self.given_stats, dims=1 + len(self.input_shape))
        train = self.splits["train"]
        step = max(1, len(train) // STATS_SAMPLES)
        x = torch.stack([train.read(i) for i in range(0, len(train), step)])
        return channel_stats(x.to(torch.float32) * self.rescale)

    def target_stats(self) -> tuple[Tensor, Tensor] | None:
        """Regression (`values`): each target column's mean and std (k,) over the training
        split (its labels are in memory); None for class indices and multi-hot labels."""
        return column_stats(self.splits["train"].labels) if self.targets == "values" else None

    def normalization(self) -> nn.Module:
        """Standardization with `normalization_stats`, or identity when `normalize` is off."""
        return Standardize(*self.normalization_stats()) if self.normalize else nn.Identity()

    def _loader(self, split: str, training: bool) -> DataLoader[tuple[Tensor, Tensor]]:
        dataset = self.splits[split]
        dataset.transform = self.train_transform if split == "train" else None
        batches = sharded_batches(
            self.trainer, len(dataset), self.batch_size, self.batch_size_scope, training,
            self.shuffle_seed,
        )  # fmt: skip
        return DataLoader(
            dataset,
            batch_sampler=batches,
            num_workers=self.num_workers,
            pin_memory=torch.cuda.is_available(),
            persistent_workers=self.num_workers > 0,
        )

    def train_dataloader(self) -> DataLoader[tuple[Tensor, Tensor]]:
        return self._loader("train", training=True)

    def val_dataloader(self) -> DataLoader[tuple[Tensor, Tensor]]:
        return self._loader("val", training=False)

    def test_dataloader(self) -> DataLoader[tuple[Tensor, Tensor]]:
        return self._loader("test", training=False)
