"""A pipeline stage loads its part of a whole model's state (strategy=pipeline's checkpoints)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from trainrig.distributed.pipeline_strategy import StageRunner


def _whole() -> nn.Sequential:
    return nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))


def _stage() -> nn.Module:
    """Stage 0 of `_whole`: layer 0, inside a module as the LightningModule holds it."""
    parent = nn.Module()
    parent.model = StageRunner([("0", nn.Linear(3, 4))], ["1", "2"], run=lambda x: x)
    return parent


def test_a_stage_loads_its_layers_from_the_whole_models_state_strictly() -> None:
    whole = nn.Module()
    whole.model = _whole()
    state = whole.state_dict()
    stage = _stage()

    stage.load_state_dict(state)  # strict: the other stages' keys are not unexpected

    torch.testing.assert_close(stage.model.get_submodule("0").weight, whole.model[0].weight)
    assert state.keys() == whole.state_dict().keys()  # the caller's state is left whole


def test_a_key_of_no_stage_is_still_unexpected() -> None:
    whole = nn.Module()
    whole.model = _whole()
    state = {**whole.state_dict(), "model.9.weight": torch.zeros(1)}
    with pytest.raises(RuntimeError, match=r'Unexpected key\(s\) in state_dict: "model.9.weight"'):
        _stage().load_state_dict(state)
