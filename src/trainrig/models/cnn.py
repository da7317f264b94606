"""A small convolutional classifier for small images (8x8 to 32x32)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any, Literal

from annotated_types import Ge, Lt

from trainrig.config.errors import ConfigError
from trainrig.config.signature import option
from trainrig.models.input_shape import require_images

if TYPE_CHECKING:
    from torch import nn

MIN_WIDTH_TO_POOL = 8


def at_least_one_block(channels: Sequence[int], **_: Any) -> None:
    """A CNN has at least one conv block."""
    if not channels:
        raise ConfigError("model.channels must list at least one conv block width, e.g. [32, 64]")


@option("model", partial=True, rule=at_least_one_block)
def build_cnn(
    input_shape: Sequence[int],
    num_classes: int,
    /,
    channels: Sequence[Annotated[int, Ge(1)]] = (32, 64, 128),
    kernel_size: Annotated[int, Ge(1)] = 3,
    batch_norm: bool = True,
    dropout: Annotated[float, Ge(0), Lt(1)] = 0.0,
    pooling: Literal["max", "avg"] = "max",
) -> nn.Sequential:
    """Conv blocks (conv, optional batch norm, ReLU), global average pooling and a linear head.

    Blocks but the last are followed by 2x2 pooling (`max` or `avg`) while the feature map is at
    least 8 pixels wide, so 8x8 digits are pooled once and 32x32 images twice.
    """
    from torch import nn

    pools: dict[str, type[nn.Module]] = {"max": nn.MaxPool2d, "avg": nn.AvgPool2d}
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
            layers.append(pools[pooling](2))
            width //= 2
        in_channels = out_channels
    layers += [
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Dropout(dropout),
        nn.Linear(in_channels, num_classes),
    ]
    return nn.Sequential(*layers)
