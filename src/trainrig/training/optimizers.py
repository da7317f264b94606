"""Optimizers over a model's parameters, optionally exempting biases and norms from weight decay.

`adam`, `adamw`, `sgd` and `rmsprop` are the built-in `optimizer` options: their signatures are the
options' schema (trainrig.config.signature); the runner gives them the model. torch is imported
inside the functions, so validating a config stays free of it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Annotated, Any

from annotated_types import Ge, Gt, Le, Lt

from trainrig.config.errors import ConfigError
from trainrig.config.signature import option

if TYPE_CHECKING:
    from torch import nn
    from torch.optim import Optimizer

OptimizerFactory = Callable[["nn.Module"], "Optimizer"]
Rate = Annotated[float, Gt(0)]
Decay = Annotated[float, Ge(0)]
Fraction = Annotated[float, Ge(0), Lt(1)]


def parameter_groups(
    model: nn.Module, weight_decay: float, exempt_bias_and_norm: bool
) -> list[dict[str, Any]]:
    """The model's trainable parameters; with the exemption, biases and normalization weights
    form a second group with no weight decay (common practice for AdamW and SGD)."""
    from torch import nn

    # torch's public normalization layers (not their private common base, `_NormBase`)
    norm_layers = (
        *(nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.SyncBatchNorm),
        *(nn.InstanceNorm1d, nn.InstanceNorm2d, nn.InstanceNorm3d),
        *(nn.LazyBatchNorm1d, nn.LazyBatchNorm2d, nn.LazyBatchNorm3d),
        *(nn.LazyInstanceNorm1d, nn.LazyInstanceNorm2d, nn.LazyInstanceNorm3d),
        *(nn.LayerNorm, nn.GroupNorm),
    )
    decayed: list[nn.Parameter] = []
    exempt: list[nn.Parameter] = []
    for module in model.modules():
        for name, parameter in module.named_parameters(recurse=False):
            if not parameter.requires_grad:
                continue
            is_exempt = exempt_bias_and_norm and (name == "bias" or isinstance(module, norm_layers))
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


@option("optimizer", partial=True)
def adam(
    model: nn.Module,
    /,
    lr: Rate = 1e-3,
    betas: tuple[Fraction, Fraction] = (0.9, 0.999),
    eps: Rate = 1e-8,
    weight_decay: Decay = 0.0,
    amsgrad: bool = False,
    exempt_bias_and_norm: bool = False,
) -> Optimizer:
    """Adam (torch.optim.Adam); `exempt_bias_and_norm`: no weight decay on biases and norms."""
    from torch.optim import Adam

    groups = parameter_groups(model, weight_decay, exempt_bias_and_norm)
    return Adam(groups, lr=lr, betas=(betas[0], betas[1]), eps=eps, amsgrad=amsgrad)


@option("optimizer", partial=True)
def adamw(
    model: nn.Module,
    /,
    lr: Rate = 1e-3,
    betas: tuple[Fraction, Fraction] = (0.9, 0.999),
    eps: Rate = 1e-8,
    weight_decay: Decay = 0.01,
    amsgrad: bool = False,
    exempt_bias_and_norm: bool = True,
) -> Optimizer:
    """AdamW, Adam with decoupled weight decay (torch.optim.AdamW)."""
    from torch.optim import AdamW

    groups = parameter_groups(model, weight_decay, exempt_bias_and_norm)
    return AdamW(groups, lr=lr, betas=(betas[0], betas[1]), eps=eps, amsgrad=amsgrad)


def nesterov_needs_momentum(nesterov: bool, momentum: float, dampening: float, **_: Any) -> None:
    """SGD's Nesterov momentum needs momentum > 0 and no dampening."""
    if nesterov and (momentum == 0 or dampening != 0):
        raise ConfigError(
            "optimizer.nesterov=true needs optimizer.momentum > 0 and optimizer.dampening=0; "
            f"got momentum={momentum}, dampening={dampening}"
        )


@option("optimizer", partial=True, rule=nesterov_needs_momentum)
def sgd(
    model: nn.Module,
    /,
    lr: Rate = 1e-2,
    momentum: Fraction = 0.0,
    dampening: Fraction = 0.0,
    nesterov: bool = False,
    weight_decay: Decay = 0.0,
    exempt_bias_and_norm: bool = False,
) -> Optimizer:
    """Stochastic gradient descent with optional (Nesterov) momentum (torch.optim.SGD)."""
    from torch.optim import SGD

    groups = parameter_groups(model, weight_decay, exempt_bias_and_norm)
    return SGD(groups, lr=lr, momentum=momentum, dampening=dampening, nesterov=nesterov)


@option("optimizer", partial=True)
def rmsprop(
    model: nn.Module,
    /,
    lr: Rate = 1e-2,
    alpha: Annotated[float, Ge(0), Le(1)] = 0.99,
    eps: Rate = 1e-8,
    weight_decay: Decay = 0.0,
    momentum: Fraction = 0.0,
    centered: bool = False,
    exempt_bias_and_norm: bool = False,
) -> Optimizer:
    """RMSprop (torch.optim.RMSprop)."""
    from torch.optim import RMSprop

    groups = parameter_groups(model, weight_decay, exempt_bias_and_norm)
    return RMSprop(groups, lr=lr, alpha=alpha, eps=eps, momentum=momentum, centered=centered)


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
