"""A map-style dataset that reads one sample at a time, optionally transforming it (in workers)."""

from __future__ import annotations

from collections.abc import Callable

from torch import Tensor
from torch.utils.data import Dataset


class SampleDataset(Dataset[tuple[Tensor, Tensor]]):
    """Sample i is `transform(read(i))` with label `labels[i]`; runs inside DataLoader workers."""

    def __init__(
        self,
        read: Callable[[int], Tensor],
        labels: Tensor,
        transform: Callable[[Tensor], Tensor] | None = None,
    ) -> None:
        self.read = read
        self.labels = labels
        self.transform = transform

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        x = self.read(index)
        if self.transform is not None:
            x = self.transform(x)
        return x, self.labels[index]
