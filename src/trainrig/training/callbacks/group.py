"""trainrig's small always-on callbacks as one Lightning callback.

Lightning dispatches every hook to every callback (a lookup, a profiler context and a formatted
name each time, about 0.5 ms per callback per epoch of the digits example): a group is dispatched
once per hook instead of once per member, and passes on only the hooks some member overrides.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from copy import deepcopy
from typing import Any, TypeVar

import pytorch_lightning as pl
from pytorch_lightning.callbacks import Callback
from pytorch_lightning.utilities.model_helpers import is_overridden

T = TypeVar("T")

# The hooks Lightning calls with (trainer, pl_module, ...); on_load_checkpoint is the group's own.
HOOKS = tuple(
    name
    for name in vars(Callback)
    if (name.startswith("on_") or name in ("setup", "teardown")) and name != "on_load_checkpoint"
)


class CallbackGroup(Callback):
    """Passes each hook that some member overrides to those members, in their order; keeps each
    member's state under the member's `state_key` inside the group's."""

    def __init__(self, members: Sequence[Callback]) -> None:
        self.members = list(members)
        self.hooked: dict[str, list[Callback]] = {}  # hook -> the members that override it
        for hook in HOOKS:
            if hooked := [m for m in self.members if is_overridden(hook, m, Callback)]:
                self.hooked[hook] = hooked
                # an instance attribute over the inherited no-op; a partial of a bound method,
                # so that a copy of the group (deepcopy, pickle) calls its own members
                setattr(self, hook, functools.partial(self._forward, hook))

    def _forward(self, hook: str, *args: Any, **kwargs: Any) -> None:
        for member in self.hooked[hook]:
            getattr(member, hook)(*args, **kwargs)

    def state_dict(self) -> dict[str, Any]:
        """Each member's state that is not empty, under its `state_key`."""
        states = ((member.state_key, member.state_dict()) for member in self.members)
        return {key: state for key, state in states if state}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        for member in self.members:
            if member.state_key in state_dict:
                member.load_state_dict(state_dict[member.state_key])

    def on_load_checkpoint(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, checkpoint: dict[str, Any]
    ) -> None:
        """The members' own hook; then, for a checkpoint written before the group (each
        member's state at its own key, no group's), the members' states as Lightning would."""
        for member in self.members:
            member.on_load_checkpoint(trainer, pl_module, checkpoint)
        states = checkpoint.get("callbacks") or {}
        if self.state_key in states:  # Lightning calls load_state_dict next
            return
        for member in self.members:
            if state := states.get(member.state_key):
                member.load_state_dict(deepcopy(state))


def callbacks_of(callbacks: Iterable[Callback], kind: type[T]) -> list[T]:
    """The callbacks of type `kind` among `callbacks` (e.g. `trainer.callbacks`) and the
    members of the groups among them, in order."""
    found: list[T] = []
    for callback in callbacks:
        inner = callback.members if isinstance(callback, CallbackGroup) else [callback]
        found += [member for member in inner if isinstance(member, kind)]
    return found
