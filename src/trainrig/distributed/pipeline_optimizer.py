"""The optimizer state of pipeline stages, gathered into (and cut back out of) the state one
process's optimizer of the whole model holds.

torch numbers an optimizer's parameters 0, 1, ... through its parameter groups in order; a
stage's optimizer numbers only its own. Gathering goes through the parameters' names in the
module: group g of the whole is the union of the stages' groups g, in the whole model's parameter
order (the order trainrig's optimizers list them in). The names are kept in the state under
`PARAM_NAMES`, which torch's `load_state_dict` ignores, so a later pipeline run can cut it again.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.optim import Optimizer

from trainrig.config.errors import ConfigError
from trainrig.distributed.pipeline_gather import gather_on_first

PARAM_NAMES = "trainrig_param_names"


def _unwrapped(optimizer: Any) -> Optimizer:
    unwrapped: Optimizer = getattr(optimizer, "_optimizer", optimizer)  # LightningOptimizer
    return unwrapped


def _named_groups(optimizer: Optimizer, module: nn.Module) -> list[list[str]]:
    names = {id(p): n for n, p in module.named_parameters()}
    return [[names[id(p)] for p in group["params"]] for group in optimizer.param_groups]


def gather_optimizer_state(
    optimizer: Any, module: nn.Module, order: list[str], device: torch.device
) -> dict[str, Any]:
    """The whole model's optimizer state on process 0; on the others their stage's own state in
    torch's format (Lightning saves process 0's only). A collective: every stage calls it;
    `device` is the one its process group sends from."""
    optimizer = _unwrapped(optimizer)
    local: dict[str, Any] = optimizer.state_dict()
    groups = _named_groups(optimizer, module)
    flat = [name for group in groups for name in group]
    named = {flat[i]: s for i, s in local["state"].items()}
    settings = [{k: v for k, v in g.items() if k != "params"} for g in local["param_groups"]]
    gathered = gather_on_first((groups, named, settings), device)
    if gathered is None:
        return local
    position = {name: i for i, name in enumerate(order)}
    whole_names: list[list[str]] = []
    whole_settings: list[dict[str, Any]] = []
    for g in range(max(len(stage_groups) for stage_groups, _, _ in gathered)):
        members = {n for stage_groups, _, _ in gathered if g < len(stage_groups)
                   for n in stage_groups[g]}  # fmt: skip
        whole_names.append(sorted(members, key=position.__getitem__))
        whole_settings.append(next(s[g] for _, _, s in gathered if g < len(s)))
    index = {name: i for i, name in enumerate(n for group in whole_names for n in group)}
    state = {index[name]: s for _, stage_named, _ in gathered for name, s in stage_named.items()}
    return {
        "state": state,
        "param_groups": [
            {**settings, "params": [index[n] for n in names]}
            for names, settings in zip(whole_names, whole_settings, strict=True)
        ],
        PARAM_NAMES: whole_names,
    }


def local_optimizer_state(
    optimizer: Any, module: nn.Module, whole: dict[str, Any]
) -> dict[str, Any]:
    """This stage's part of the whole model's optimizer state `whole`."""
    if PARAM_NAMES not in whole:
        raise ConfigError(
            "strategy=pipeline resumes from checkpoints a pipeline run wrote (their optimizer "
            "state names its parameters); this one's does not: resume it with the strategy that "
            "wrote it, or start from its weights with init_from"
        )
    optimizer = _unwrapped(optimizer)
    names = [n for group in whole[PARAM_NAMES] for n in group]
    by_name = {name: i for i, name in enumerate(names)}
    state: dict[int, Any] = {}
    param_groups: list[dict[str, Any]] = []
    next_index = 0
    for group, saved in zip(
        _named_groups(optimizer, module),
        whole["param_groups"][: len(optimizer.param_groups)],
        strict=True,
    ):
        params = []
        for name in group:
            if by_name[name] in whole["state"]:
                state[next_index] = whole["state"][by_name[name]]
            params.append(next_index)
            next_index += 1
        param_groups.append({**{k: v for k, v in saved.items() if k != "params"}, "params": params})
    return {"state": state, "param_groups": param_groups}
