"""Per-channel standardization whose statistics travel with the model's weights."""

from __future__ import annotations

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
