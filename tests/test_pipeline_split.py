"""Where strategy=pipeline cuts a model, and the models it refuses (no processes started)."""

from __future__ import annotations

import pytest
from torch import Tensor, nn

from trainrig.config.errors import ConfigError
from trainrig.distributed.pipeline_split import stage_layers, stage_starts
from trainrig.models.cnn import build_cnn
from trainrig.models.resnet import build_resnet
from trainrig.models.resnet_block import BasicBlock


class Branching(nn.Module):
    """A model whose forward adds its input back: no sequence of layers to cut."""

    def __init__(self) -> None:
        super().__init__()
        self.a, self.b = nn.Linear(4, 4), nn.Linear(4, 4)

    def forward(self, x: Tensor) -> Tensor:
        return self.b(self.a(x)) + x  # type: ignore[no-any-return]


def _sizes(model: nn.Sequential, starts: list[int]) -> list[int]:
    return [
        sum(p.numel() for _, layer in stage_layers(model, starts, k) for p in layer.parameters())
        for k in range(len(starts))
    ]


@pytest.mark.parametrize("stages", [2, 3])
def test_balanced_stages_hold_every_parameter_once_and_the_largest_is_as_small_as_it_can_be(
    stages: int,
) -> None:
    model = build_cnn((1, 8, 8), 10)
    starts = stage_starts(model, stages, None)
    sizes = _sizes(model, starts)
    assert sum(sizes) == sum(p.numel() for p in model.parameters())
    assert all(size > 0 for size in sizes)
    # no other cut among the allowed ones makes the largest stage smaller (brute force, 2 stages)
    if stages == 2:
        cuts = [i for i, layer in enumerate(model) if i and not getattr(layer, "inplace", False)]
        assert max(sizes) == min(max(_sizes(model, [0, cut])) for cut in cuts)


@pytest.mark.parametrize("stages", [2, 3])
def test_resnet_cuts_between_its_residual_blocks_balanced(stages: int) -> None:
    """A residual block's skip connection stays inside one stage: the cuts are between the
    top-level blocks, and for 2 stages no other cut makes the largest stage smaller."""
    model = build_resnet((1, 8, 8), 10)
    starts = stage_starts(model, stages, None)
    blocks = [i for i, layer in enumerate(model) if isinstance(layer, BasicBlock)]
    assert len(starts) == stages and starts[0] == 0
    assert set(starts[1:]) <= set(blocks)  # each stage after the first begins with a block
    sizes = _sizes(model, starts)
    assert sum(sizes) == sum(p.numel() for p in model.parameters())
    assert all(size > 0 for size in sizes)
    if stages == 2:
        cuts = [i for i, layer in enumerate(model) if i and not getattr(layer, "inplace", False)]
        assert max(sizes) == min(max(_sizes(model, [0, cut])) for cut in cuts)


def test_given_cuts_are_used_and_checked() -> None:
    model = build_cnn((1, 8, 8), 10)  # 0 conv, 1 bn, 2 relu, 3 pool, 4 conv, ...
    assert stage_starts(model, 2, ["4"]) == [0, 4]
    with pytest.raises(ConfigError, match="works in place"):
        stage_starts(model, 2, ["2"])
    with pytest.raises(ConfigError, match="2 stages need 1 cuts"):
        stage_starts(model, 2, ["3", "4"])
    with pytest.raises(ConfigError, match="no top-level layer 'x'"):
        stage_starts(model, 2, ["x"])


def test_a_model_that_is_not_sequential_is_refused_with_the_reason() -> None:
    with pytest.raises(ConfigError, match=r"is a Branching, not an nn.Sequential.*may branch"):
        stage_starts(Branching(), 2, None, "my.Branching")


def test_too_few_layers_for_the_stages_are_refused() -> None:
    with pytest.raises(ConfigError, match="too few for 3 stages"):
        stage_starts(nn.Sequential(nn.Linear(2, 2), nn.ReLU(inplace=True)), 3, None)
