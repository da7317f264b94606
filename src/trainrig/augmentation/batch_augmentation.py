"""The modules the batched augmentation builds: per-sample transforms, then MixUp/CutMix."""

from __future__ import annotations

import torch
from torch import Tensor, nn


class RandomBrightnessScale(nn.Module):
    """Multiply each image by its own factor drawn from [low, high] (Keras' brightness_range)."""

    def __init__(self, low: float, high: float) -> None:
        super().__init__()
        self.low, self.high = low, high

    def forward(self, x: Tensor) -> Tensor:
        shape = (x.shape[0],) + (1,) * (x.dim() - 1)
        factor = torch.empty(shape, device=x.device, dtype=x.dtype).uniform_(self.low, self.high)
        return (x * factor).clamp(0.0, 1.0)


class BatchAugmentation(nn.Module):
    """Per-sample transforms of a batch, then optional MixUp/CutMix of the batch.

    Returns the augmented images and targets: class indices as given, or soft class
    probabilities (batch, classes) when the batch was mixed; cross-entropy takes either.
    """

    def __init__(self, transforms: nn.Module, mixing: nn.Module | None = None) -> None:
        super().__init__()
        self.transforms = transforms
        self.mixing = mixing
        self.per_sample: nn.Module | None = None  # transforms for loader workers, if any

    def forward(self, x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
        x = self.transforms(x)
        if self.mixing is not None:
            x, y = self.mixing(x, y)
        return x, y
