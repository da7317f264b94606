"""Model builders: every model, with and without batch norm, on every input shape we serve."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from trainrig.models.cnn import build_cnn
from trainrig.models.mlp import build_mlp

IMAGE_SHAPES = [(1, 8, 8), (1, 28, 28), (3, 32, 32)]


@pytest.mark.parametrize("shape", IMAGE_SHAPES)
@pytest.mark.parametrize("batch_norm", [True, False])
@pytest.mark.parametrize("builder", [build_cnn, build_mlp])
def test_forward_and_backward(shape: tuple[int, ...], batch_norm: bool, builder: object) -> None:
    model: nn.Module = builder(input_shape=shape, num_classes=7, batch_norm=batch_norm)  # type: ignore[operator]
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
