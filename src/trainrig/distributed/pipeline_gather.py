"""Every pipeline stage's state gathered on process 0 only: the other processes never hold more
than their own stage's.

`all_gather_object` would give every process every stage's state (pickled and unpickled), and
`gather_object` pickles it too; here only the small rest of each state (its structure, names,
numbers) and each tensor's shape and dtype go by `gather_object`, and the tensors follow one
at a time by `send`/`recv` into buffers process 0 makes for them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor


@dataclass(frozen=True)
class _Slot:
    """Where a tensor was in a state: the `index`-th sent."""

    index: int


def _hollow(value: Any, tensors: list[Tensor]) -> Any:
    """`value` with each tensor (appended to `tensors`) replaced by its slot."""
    if isinstance(value, Tensor):
        tensors.append(value)
        return _Slot(len(tensors) - 1)
    if isinstance(value, dict):
        return {key: _hollow(item, tensors) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_hollow(item, tensors) for item in value)
    return value


def _filled(value: Any, tensors: list[Tensor]) -> Any:
    """A hollowed `value` with its slots' tensors put back."""
    if isinstance(value, _Slot):
        return tensors[value.index]
    if isinstance(value, dict):
        return {key: _filled(item, tensors) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_filled(item, tensors) for item in value)
    return value


def gather_on_first(value: Any, device: torch.device) -> list[Any] | None:
    """Every process's `value` (tensors in dicts, lists and tuples) in rank order on process 0,
    its tensors on the CPU (process 0's own CPU tensors as they are, not copied); None on the
    other processes. A collective; `device` is where the process group sends tensors from (a
    GPU for NCCL, the CPU for gloo)."""
    tensors: list[Tensor] = []
    hollow = _hollow(value, tensors)
    first = torch.distributed.get_rank() == 0
    shapes = [(tuple(tensor.shape), tensor.dtype) for tensor in tensors]  # in sending order
    hollows: list[Any] | None = [None] * torch.distributed.get_world_size() if first else None
    torch.distributed.gather_object((hollow, shapes), hollows, dst=0)
    if hollows is None:
        for tensor in tensors:
            torch.distributed.send(tensor.detach().to(device).contiguous(), dst=0)
        return None
    gathered = [_filled(hollow, [tensor.detach().cpu() for tensor in tensors])]
    for rank, (theirs, their_shapes) in enumerate(hollows[1:], start=1):
        received: list[Tensor] = []
        for shape, dtype in their_shapes:
            buffer = torch.empty(shape, dtype=dtype, device=device)
            torch.distributed.recv(buffer, src=rank)
            received.append(buffer.cpu())
        gathered.append(_filled(theirs, received))
    return gathered
