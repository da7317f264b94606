"""The project's network builder: trainrig calls it with the input shape and number of outputs.

A model builder is configured with `_partial_: true`; trainrig completes the call with what only
the data knows, `build_net(input_shape, num_outputs)`, after the keys of the config
(`hidden_size`, `depth`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from torch import nn


def build_net(
    input_shape: Sequence[int], num_outputs: int, /, hidden_size: int = 32, depth: int = 2
) -> nn.Module:
    """`depth` layers of `hidden_size` SiLU units, then one linear output per target."""
    layers: list[nn.Module] = [nn.Flatten()]
    width = math.prod(input_shape)
    for _ in range(depth):
        layers += [nn.Linear(width, hidden_size), nn.SiLU()]
        width = hidden_size
    layers.append(nn.Linear(width, num_outputs))
    return nn.Sequential(*layers)
