"""A small residual network for small images (8x8 to 32x32)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated

from annotated_types import Ge, Le

from trainrig.config.signature import option
from trainrig.models.input_shape import require_images

if TYPE_CHECKING:
    from torch import nn

MIN_WIDTH_TO_DOWNSAMPLE = 8


@option("model", partial=True)
def build_resnet(
    input_shape: Sequence[int],
    num_classes: int,
    /,
    width: Annotated[int, Ge(1)] = 32,
    stages: Annotated[int, Ge(1), Le(6)] = 3,
    blocks_per_stage: Annotated[int, Ge(1)] = 2,
    batch_norm: bool = True,
) -> nn.Sequential:
    """A 3x3 stem, then `stages` stages of `blocks_per_stage` basic blocks, doubling the channels
    from `width` each stage, then global average pooling and a linear head.

    A stage after the first halves the feature map while it is at least 8 pixels wide, so 8x8
    digits are downsampled once and 32x32 images twice.
    """
    from torch import nn

    from trainrig.models.resnet_block import BasicBlock

    require_images("resnet", input_shape)
    in_channels, size = input_shape[0], input_shape[-1]
    layers: list[nn.Module] = [
        nn.Conv2d(in_channels, width, 3, padding=1, bias=not batch_norm),
        nn.BatchNorm2d(width) if batch_norm else nn.Identity(),
        nn.ReLU(inplace=True),
    ]
    channels = width
    for stage in range(stages):
        out_channels = width * 2**stage
        stride = 2 if stage > 0 and size >= MIN_WIDTH_TO_DOWNSAMPLE else 1
        size //= stride
        for block in range(blocks_per_stage):
            layers.append(
                BasicBlock(channels, out_channels, stride if block == 0 else 1, batch_norm)
            )
            channels = out_channels
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, num_classes)]
    return nn.Sequential(*layers)
