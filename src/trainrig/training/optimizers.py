"""Optimizers over a model's parameters, optionally exempting biases and norms from weight decay."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from torch import nn
from torch.optim import Optimizer

# Torch's public normalization layers (their private common base, `_NormBase`, is not used).
NORM_LAYERS = (
    nn.BatchNorm1d,
    nn.BatchNorm2d,
    nn.BatchNorm3d,
    nn.SyncBatchNorm,
    nn.InstanceNorm1d,
    nn.InstanceNorm2d,
    nn.InstanceNorm3d,
    nn.LazyBatchNorm1d,
    nn.LazyBatchNorm2d,
    nn.LazyBatchNorm3d,
    nn.LazyInstanceNorm1d,
    nn.LazyInstanceNorm2d,
    nn.LazyInstanceNorm3d,
    nn.LayerNorm,
    nn.GroupNorm,
)
OptimizerFactory = Callable[[nn.Module], Optimizer]


def parameter_groups(
    model: nn.Module, weight_decay: float, exempt_bias_and_norm: bool
) -> list[dict[str, Any]]:
    """The model's trainable parameters; with the exemption, biases and normalization weights
    form a second group with no weight decay (common practice for AdamW and SGD)."""
    decayed: list[nn.Parameter] = []
    exempt: list[nn.Parameter] = []
    for module in model.modules():
        for name, parameter in module.named_parameters(recurse=False):
            if not parameter.requires_grad:
                continue
            is_exempt = exempt_bias_and_norm and (name == "bias" or isinstance(module, NORM_LAYERS))
            (exempt if is_exempt else decayed).append(parameter)
    groups = [{"params": decayed, "weight_decay": weight_decay}]
    if exempt:
        groups.append({"params": exempt, "weight_decay": 0.0})
    return groups


def optimizer_factory(
    make: Callable[..., Optimizer], weight_decay: float, exempt_bias_and_norm: bool
) -> OptimizerFactory:
    """model -> optimizer, from a partial optimizer class (`torch.optim.Adam` with its options);
    a partial, not a closure, so strategy=ddp_spawn can pickle it to its processes."""
    return partial(
        _optimizer, make=make, weight_decay=weight_decay, exempt_bias_and_norm=exempt_bias_and_norm
    )


def _optimizer(
    model: nn.Module,
    make: Callable[..., Optimizer],
    weight_decay: float,
    exempt_bias_and_norm: bool,
) -> Optimizer:
    return make(parameter_groups(model, weight_decay, exempt_bias_and_norm))


LR_SCALINGS: dict[str, Callable[[int], float]] = {
    "none": lambda processes: 1.0,
    "linear": float,  # lr x N (Goyal et al. 2017)
    "sqrt": lambda processes: float(processes) ** 0.5,
}


def scale_learning_rates(optimizer: Optimizer, rule: str, processes: int) -> float:
    """Multiply every group's lr by `rule`'s factor for `processes` data-parallel processes
    (each with a per-device batch, so the global batch grows with them); returns the factor."""
    factor = LR_SCALINGS[rule](processes)
    for group in optimizer.param_groups:
        group["lr"] *= factor
    return factor
