"""A small convolutional classifier for small images (8x8 to 32x32)."""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from trainrig.models.input_shape import require_images

MIN_WIDTH_TO_POOL = 8
POOLING: dict[str, type[nn.Module]] = {"max": nn.MaxPool2d, "avg": nn.AvgPool2d}


def build_cnn(
    input_shape: Sequence[int],
    num_classes: int,
    channels: Sequence[int] = (32, 64, 128),
    kernel_size: int = 3,
    batch_norm: bool = True,
    dropout: float = 0.0,
    pooling: str = "max",
) -> nn.Sequential:
    """Conv blocks (conv, optional batch norm, ReLU), global average pooling and a linear head.

    Blocks but the last are followed by 2x2 pooling (`max` or `avg`) while the feature map is at
    least 8 pixels wide, so 8x8 digits are pooled once and 32x32 images twice.
    """
    require_images("cnn", input_shape)
    in_channels, width = input_shape[0], input_shape[-1]
    layers: list[nn.Module] = []
    for index, out_channels in enumerate(channels):
        layers.append(
            nn.Conv2d(
                in_channels,
                out_channels,
                kernel_size,
                padding=kernel_size // 2,
                bias=not batch_norm,
            )
        )
        if batch_norm:
            layers.append(nn.BatchNorm2d(out_channels))
        layers.append(nn.ReLU(inplace=True))
        if index < len(channels) - 1 and width >= MIN_WIDTH_TO_POOL:
            layers.append(POOLING[pooling](2))
            width //= 2
        in_channels = out_channels
    layers += [
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Dropout(dropout),
        nn.Linear(in_channels, num_classes),
    ]
    return nn.Sequential(*layers)
