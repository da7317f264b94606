"""Batches of sample indices, each global batch split across data-parallel processes.

Every process draws the same order (a generator seeded by `seed` and the epoch), cuts it into
global batches, and keeps its own slice of each. N processes thus see, step by step, exactly the
samples one process sees with the global batch size: averaging their gradients gives that one
process's gradient, and evaluation counts every sample exactly once (no padding duplicates,
unlike torch's DistributedSampler).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import torch
from torch.utils.data import Sampler

from trainrig.config.errors import ConfigError

if TYPE_CHECKING:
    import pytorch_lightning as pl


class ShardedBatches(Sampler[list[int]]):
    """Index lists of `global_batch` samples per step, of which this process takes its share.

    The share of a global batch is the contiguous slice `rank` of `replicas` near-equal slices.
    With `drop_unshared` (training: each process must take part in every step), a last global
    batch too small to give every process a sample is dropped; without it (evaluation), every
    sample is kept and a process may get one batch fewer.
    """

    def __init__(
        self,
        num_samples: int,
        global_batch: int,
        shuffle: bool,
        drop_unshared: bool = False,
        seed: int = 0,
        replicas: int = 1,
        rank: int = 0,
    ) -> None:
        self.num_samples = num_samples
        self.global_batch = global_batch
        self.shuffle = shuffle
        self.drop_unshared = drop_unshared
        self.seed = seed
        self.replicas = replicas
        self.rank = rank
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Lightning calls this before each training epoch, so each epoch has its own order."""
        self.epoch = epoch

    def _order(self) -> torch.Tensor:
        if not self.shuffle:
            return torch.arange(self.num_samples)
        generator = torch.Generator().manual_seed(self.seed + self.epoch)
        return torch.randperm(self.num_samples, generator=generator)

    def _share(self, batch: torch.Tensor) -> torch.Tensor:
        return batch.tensor_split(self.replicas)[self.rank]

    def __iter__(self) -> Iterator[list[int]]:
        for batch in self._order().split(self.global_batch):
            if self.drop_unshared and len(batch) < self.replicas:
                return
            share = self._share(batch)
            if len(share):
                yield share.tolist()

    def __len__(self) -> int:
        full, rest = divmod(self.num_samples, self.global_batch)
        if rest >= self.replicas:
            return full + 1
        return full + int(not self.drop_unshared and self.rank < rest)


def data_parallel_share(trainer: pl.Trainer | None) -> tuple[int, int]:
    """(number of data-parallel processes, this one's index): (1, 0) on one device. Tensor-parallel
    processes of one group count once, as they must see the same samples."""
    kwargs = getattr(trainer.strategy, "distributed_sampler_kwargs", None) if trainer else None
    if not kwargs:
        return 1, 0
    return int(kwargs["num_replicas"]), int(kwargs["rank"])


def sharded_batches(
    trainer: pl.Trainer | None,
    num_samples: int,
    batch_size: int,
    batch_size_scope: str,
    training: bool,
    seed: int,
) -> ShardedBatches:
    """This process's batches of a split: `batch_size` per device, or in all of them together
    (`batch_size_scope` global), shuffled and with unshared tails dropped when `training`."""
    replicas, rank = data_parallel_share(trainer)
    if batch_size_scope == "global" and batch_size < replicas:
        raise ConfigError(
            f"data.batch_size={batch_size} is the global batch (batch_size_scope=global) but "
            f"{replicas} processes split it: set data.batch_size >= {replicas}, or "
            "batch_size_scope=per_device"
        )
    global_batch = batch_size * replicas if batch_size_scope == "per_device" else batch_size
    return ShardedBatches(
        num_samples, global_batch, training, drop_unshared=training, seed=seed,
        replicas=replicas, rank=rank,
    )  # fmt: skip
