"""Per-channel standardization whose statistics travel with the model's weights."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn


class Standardize(nn.Module):
    """(x - mean) / std with broadcastable (1xCx1x1) statistics, saved with the weights."""

    mean: Tensor
    std: Tensor

    def __init__(self, mean: Tensor, std: Tensor) -> None:
        super().__init__()
        self.register_buffer("mean", mean)
        self.register_buffer("std", std)

    def forward(self, x: Tensor) -> Tensor:
        return (x - self.mean) / self.std


def channel_stats(x: Tensor) -> tuple[Tensor, Tensor]:
    """Mean and std over every axis but the channel (or feature) axis 1, kept broadcastable."""
    dims = [d for d in range(x.dim()) if d != 1]
    mean, std = x.mean(dim=dims, keepdim=True), x.std(dim=dims, keepdim=True)
    return mean.cpu(), std.clamp_min(1e-6).cpu()


def given_stats(mean: Sequence[float], std: Sequence[float], dims: int) -> tuple[Tensor, Tensor]:
    """Configured per-channel statistics shaped to broadcast over `dims`-dimensional batches."""
    shape = (1, -1, *([1] * (dims - 2)))
    return (
        torch.tensor(list(mean), dtype=torch.float32).reshape(shape),
        torch.tensor(list(std), dtype=torch.float32).reshape(shape),
    )


def column_stats(y: Tensor) -> tuple[Tensor, Tensor]:
    """Mean and std of each column of (N, k) regression targets, each of shape (k,)."""
    y = y.to(torch.float32)
    return y.mean(dim=0).cpu(), y.std(dim=0).clamp_min(1e-6).cpu()
