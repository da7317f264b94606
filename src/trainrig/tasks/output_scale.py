"""A regression model's outputs back on the targets' scale; saved with the weights."""

from __future__ import annotations

from torch import Tensor, nn


class Destandardize(nn.Module):
    """outputs * std + mean, with the training targets' per-column statistics."""

    mean: Tensor
    std: Tensor

    def __init__(self, mean: Tensor, std: Tensor) -> None:
        super().__init__()
        self.register_buffer("mean", mean.reshape(1, -1))
        self.register_buffer("std", std.reshape(1, -1))

    def forward(self, outputs: Tensor) -> Tensor:
        return outputs * self.std + self.mean
