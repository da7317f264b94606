"""A small residual network for small images (8x8 to 32x32)."""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from trainrig.models.input_shape import require_images

MIN_WIDTH_TO_DOWNSAMPLE = 8


class BasicBlock(nn.Module):
    """Two 3x3 convolutions (optional batch norm) and a shortcut, projected when shapes change."""

    def __init__(self, in_channels: int, out_channels: int, stride: int, batch_norm: bool) -> None:
        super().__init__()
        norm = nn.BatchNorm2d if batch_norm else nn.Identity
        self.body = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, 3, stride, padding=1, bias=not batch_norm),
            norm(out_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=not batch_norm),
            norm(out_channels),
        )
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride, bias=not batch_norm),
                norm(out_channels),
            )
        self.activation = nn.ReLU(inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        return self.activation(self.body(x) + self.shortcut(x))  # type: ignore[no-any-return]


def build_resnet(
    input_shape: Sequence[int],
    num_classes: int,
    width: int = 32,
    stages: int = 3,
    blocks_per_stage: int = 2,
    batch_norm: bool = True,
) -> nn.Sequential:
    """A 3x3 stem, then `stages` stages of `blocks_per_stage` basic blocks, doubling the channels
    from `width` each stage, then global average pooling and a linear head.

    A stage after the first halves the feature map while it is at least 8 pixels wide, so 8x8
    digits are downsampled once and 32x32 images twice.
    """
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
