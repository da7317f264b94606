"""Model builders: every model, with and without batch norm, on every input shape we serve."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from trainrig.config.errors import ConfigError
from trainrig.models.cnn import build_cnn
from trainrig.models.mlp import build_mlp
from trainrig.models.resnet import build_resnet
from trainrig.models.torchvision_models import build_torchvision

IMAGE_SHAPES = [(1, 8, 8), (1, 28, 28), (3, 32, 32)]


@pytest.mark.parametrize("shape", IMAGE_SHAPES)
@pytest.mark.parametrize("batch_norm", [True, False])
@pytest.mark.parametrize("builder", [build_cnn, build_mlp, build_resnet])
def test_forward_and_backward(shape: tuple[int, ...], batch_norm: bool, builder: object) -> None:
    model: nn.Module = builder(shape, 7, batch_norm=batch_norm)  # type: ignore[operator]
    x = torch.randn(5, *shape)
    logits = model(x)
    assert logits.shape == (5, 7)
    logits.sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    has_bn = any(isinstance(m, nn.BatchNorm1d | nn.BatchNorm2d) for m in model.modules())
    assert has_bn is batch_norm


@pytest.mark.parametrize(("width", "pools"), [(8, 1), (16, 2), (32, 2)])
def test_cnn_pools_while_maps_are_at_least_8_wide(width: int, pools: int) -> None:
    model = build_cnn((1, width, width), 10, channels=(4, 4, 4))
    assert sum(isinstance(m, nn.MaxPool2d) for m in model.modules()) == pools


def test_mlp_hidden_sizes_and_activation() -> None:
    model = build_mlp((1, 8, 8), 10, hidden_sizes=(32, 16), activation="gelu", batch_norm=False)
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(64, 32), (32, 16), (16, 10)]
    assert sum(isinstance(m, nn.GELU) for m in model.modules()) == 2


@pytest.mark.parametrize(("width", "strided_stages"), [(8, 1), (16, 2), (32, 2)])
def test_resnet_downsamples_while_maps_are_at_least_8_wide(width: int, strided_stages: int) -> None:
    model = build_resnet((1, width, width), 10, width=4, stages=3, blocks_per_stage=1)
    strided = [m for m in model.modules() if isinstance(m, nn.Conv2d) and m.stride == (2, 2)]
    assert len(strided) == 2 * strided_stages  # the block's first conv and its projection


def test_resnet_depth_and_width() -> None:
    model = build_resnet((3, 32, 32), 10, width=8, stages=2, blocks_per_stage=3)
    head = model[-1]
    assert isinstance(head, nn.Linear) and head.in_features == 16
    assert sum(type(m).__name__ == "BasicBlock" for m in model.modules()) == 6


@pytest.mark.parametrize("shape", IMAGE_SHAPES)
def test_torchvision_model_by_name_on_any_channel_count(shape: tuple[int, ...]) -> None:
    model = build_torchvision(shape, 10, name="resnet18")
    logits = model(torch.randn(2, *shape))
    assert logits.shape == (2, 10)
    logits.sum().backward()


def test_torchvision_unknown_name_lists_the_models() -> None:
    with pytest.raises(ConfigError, match="'resnet9000' is not a torchvision classification model"):
        build_torchvision((3, 32, 32), 10, name="resnet9000")


def test_torchvision_local_weights_load_all_but_a_differently_sized_head(tmp_path: Path) -> None:
    source = build_torchvision((3, 32, 32), 1000, name="resnet18")
    path = tmp_path / "resnet18.pt"
    torch.save(source.state_dict(), path)
    model = build_torchvision((3, 32, 32), 10, name="resnet18", weights_path=str(path))
    assert torch.equal(model.conv1.weight, source.conv1.weight)  # type: ignore[union-attr]
    assert model.fc.weight.shape == (10, 512)  # type: ignore[union-attr]
    with pytest.raises(ConfigError, match="no file at"):
        build_torchvision((3, 32, 32), 10, name="resnet18", weights_path=str(tmp_path / "x.pt"))
