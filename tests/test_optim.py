"""Optimizer parameter groups: weight decay with and without the bias/norm exemption."""

from __future__ import annotations

import torch
from torch import nn

from trainrig.training.optimizers import optimizer_factory, parameter_groups


def _model() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, bias=False),
        nn.BatchNorm2d(4),
        nn.Flatten(),
        nn.LayerNorm(144),
        nn.Linear(144, 3),
    )


def test_without_exemption_every_parameter_decays() -> None:
    groups = parameter_groups(_model(), weight_decay=0.01, exempt_bias_and_norm=False)
    assert len(groups) == 1
    assert groups[0]["weight_decay"] == 0.01
    assert len(groups[0]["params"]) == 7


def test_exemption_moves_biases_and_norm_weights_to_a_group_without_decay() -> None:
    model = _model()
    decayed, exempt = parameter_groups(model, weight_decay=0.01, exempt_bias_and_norm=True)
    conv, bn, _, ln, linear = model
    assert {id(p) for p in decayed["params"]} == {id(conv.weight), id(linear.weight)}
    expected_exempt = {bn.weight, bn.bias, ln.weight, ln.bias, linear.bias}
    assert {id(p) for p in exempt["params"]} == {id(p) for p in expected_exempt}
    assert (decayed["weight_decay"], exempt["weight_decay"]) == (0.01, 0.0)


def test_frozen_parameters_are_left_out() -> None:
    model = _model()
    model[0].weight.requires_grad_(False)
    (group,) = parameter_groups(model, weight_decay=0.0, exempt_bias_and_norm=False)
    assert len(group["params"]) == 6


def test_factory_builds_the_optimizer_with_the_groups() -> None:
    from functools import partial

    make = optimizer_factory(partial(torch.optim.AdamW, lr=0.01), 0.05, exempt_bias_and_norm=True)
    optimizer = make(_model())
    assert isinstance(optimizer, torch.optim.AdamW)
    assert [g["weight_decay"] for g in optimizer.param_groups] == [0.05, 0.0]
    assert all(g["lr"] == 0.01 for g in optimizer.param_groups)
