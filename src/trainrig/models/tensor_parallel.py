"""Tensor-parallel sharding plans: which layers split across devices, and how.

Megatron-LM's scheme on a stack of linear layers: the first of each pair is split by output
features (column-wise), so the activation between them stays split and element-wise; the second
by input features (row-wise), whose partial outputs are summed across the group (one all-reduce
per pair). A last unpaired layer, the head, stays whole on every device. Batch norm between two
linear layers would need the whole feature vector, so a model with it has no plan.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from torch import Tensor, nn

if TYPE_CHECKING:
    from torch.distributed.device_mesh import DeviceMesh
    from torch.distributed.tensor.parallel import ParallelStyle

ELEMENTWISE = (
    nn.Flatten,
    nn.ReLU,
    nn.GELU,
    nn.SiLU,
    nn.Tanh,
    nn.LeakyReLU,
    nn.Dropout,
    nn.Identity,
)


def sharding_plan(model: nn.Module) -> dict[str, str] | None:
    """{layer name: "colwise" | "rowwise"} for a Sequential of linear and element-wise layers;
    None for any other model (convolutions, normalization, branches)."""
    if not isinstance(model, nn.Sequential):
        return None
    linear = []
    for name, layer in model.named_children():
        if isinstance(layer, nn.Linear):
            linear.append(name)
        elif not isinstance(layer, ELEMENTWISE):
            return None
    if len(linear) < 2:
        return None
    pairs = len(linear) // 2
    return {name: ("colwise", "rowwise")[i % 2] for i, name in enumerate(linear[: 2 * pairs])}


def parallelize(model: nn.Module, mesh: DeviceMesh) -> nn.Module:
    """Split `model`'s planned layers across the devices of `mesh` (a 1-D tensor-parallel mesh)."""
    from torch.distributed.tensor.parallel import (
        ColwiseParallel,
        RowwiseParallel,
        parallelize_module,
    )

    plan = sharding_plan(model)
    if plan is None:
        raise ValueError(f"{type(model).__name__} has no tensor-parallel sharding plan")
    styles: dict[str, ParallelStyle] = {
        name: ColwiseParallel() if kind == "colwise" else RowwiseParallel()
        for name, kind in plan.items()
    }
    return parallelize_module(model, mesh, styles)


def whole_state(module: nn.Module) -> dict[str, Tensor]:
    """CPU copies of `module`'s state with split layers gathered whole (a collective when the
    model is split: every process calls it), so the copy loads anywhere."""
    from torch.distributed.tensor import DTensor

    return {
        name: (value.full_tensor() if isinstance(value, DTensor) else value)
        .detach()
        .to("cpu", copy=True)
        for name, value in module.state_dict().items()
    }


def load_whole_state(module: nn.Module, state: dict[str, Tensor]) -> None:
    """Load a `whole_state` copy, splitting it again where `module`'s layers are split."""
    from torch.distributed.tensor import DTensor, distribute_tensor

    current = module.state_dict()
    module.load_state_dict(
        {
            name: distribute_tensor(
                value.to(current[name].device), current[name].device_mesh, current[name].placements
            )
            if isinstance(current.get(name), DTensor)
            else value
            for name, value in state.items()
        }
    )
