"""A multilayer perceptron on flattened inputs."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Literal

from annotated_types import Ge, Lt

from trainrig.config.signature import option

if TYPE_CHECKING:
    from torch import nn


@option("model", partial=True)
def build_mlp(
    input_shape: Sequence[int],
    num_classes: int,
    /,
    hidden_sizes: Sequence[Annotated[int, Ge(1)]] = (256, 128),
    activation: Literal["relu", "gelu", "silu", "tanh", "leaky_relu"] = "relu",
    batch_norm: bool = True,
    dropout: Annotated[float, Ge(0), Lt(1)] = 0.0,
) -> nn.Sequential:
    """Flatten; (linear, optional batch norm, activation, dropout) per hidden size; linear head."""
    from torch import nn

    activations: dict[str, type[nn.Module]] = {
        "relu": nn.ReLU,
        "gelu": nn.GELU,
        "silu": nn.SiLU,
        "tanh": nn.Tanh,
        "leaky_relu": nn.LeakyReLU,
    }
    width = math.prod(input_shape)
    layers: list[nn.Module] = [nn.Flatten()]
    for size in hidden_sizes:
        layers.append(nn.Linear(width, size, bias=not batch_norm))
        if batch_norm:
            layers.append(nn.BatchNorm1d(size))
        layers += [activations[activation](), nn.Dropout(dropout)]
        width = size
    layers.append(nn.Linear(width, num_classes))
    return nn.Sequential(*layers)
