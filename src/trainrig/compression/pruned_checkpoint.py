"""A channel-pruned model's checkpoint: its weights, its config, and the plan that rebuilds it.

Channel pruning narrows layers, so the pruned weights do not fit the model the config builds, and
a pickled `nn.Module` would not load with `torch.load(weights_only=True)`. The checkpoint stores
Torch-Pruning's pruning history instead (plain data: per step, a layer's name, whether its output
or input channels went, and their indices) with the input shape it was traced with. Loading
builds the model from the config, replays the history with Torch-Pruning's `DependencyGraph`
(which narrows every dependent layer as pruning did) and loads the weights: `trainrig eval`
(and whatever reads checkpoints through `rundir.checkpoints.load_fitting_weights`) takes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trainrig.config.optional_packages import require_extra

if TYPE_CHECKING:
    import torch
    from torch import nn

PLAN_KEY = "trainrig_channel_pruning"
PRUNED_CHECKPOINT = "pruned.ckpt"
# One step of Torch-Pruning's history: (layer name, output channels?, pruned channel indices).
Step = tuple[str, bool, list[int]]


def require_torch_pruning(option: str) -> None:
    """A ConfigError naming `pip install 'trainrig[pruning]'` when torch_pruning is missing."""
    require_extra("torch_pruning", "pruning", option)


def plan(history: Sequence[Sequence[Any]], input_shape: Sequence[int]) -> dict[str, Any]:
    """The plain-data plan that `replay` rebuilds the pruned widths from."""
    steps = [[str(name), bool(out), [int(i) for i in indices]] for name, out, indices in history]
    return {"input_shape": [int(n) for n in input_shape], "history": steps}


def traced_in_eval_mode(model: nn.Module, example: torch.Tensor) -> Any:
    """Torch-Pruning's dependency graph of `model`, traced in eval mode (the batch-norm running
    statistics stay as they are), every submodule's mode restored afterwards."""
    import torch
    import torch_pruning as tp

    modes = {module: module.training for module in model.modules()}
    model.eval()
    try:
        with torch.enable_grad():
            return tp.DependencyGraph().build_dependency(model, example_inputs=example)
    finally:
        for module, training in modes.items():
            module.training = training


def replay(model: nn.Module, pruning_plan: dict[str, Any]) -> None:
    """Narrow the freshly built `model` to the widths `pruning_plan` pruned it to."""
    import torch

    require_torch_pruning("a channel-pruned checkpoint")
    example = torch.zeros(2, *pruning_plan["input_shape"])
    traced_in_eval_mode(model, example).load_pruning_history(pruning_plan["history"])


def pruned_model(classifier: nn.Module) -> nn.Module:
    """The network channel pruning narrows: trainrig's classifier's `model`."""
    model = getattr(classifier, "model", None)
    assert model is not None, "channel pruning works on trainrig's classifier (its `model`)"
    return model  # type: ignore[no-any-return]


def restore_widths(classifier: nn.Module, checkpoint: dict[str, Any]) -> None:
    """Narrow `classifier`'s model as the checkpoint's plan says (nothing without a plan)."""
    if (pruning_plan := checkpoint.get(PLAN_KEY)) is not None:
        replay(pruned_model(classifier), pruning_plan)


def write(
    classifier: nn.Module, pruning_plan: dict[str, Any], config: dict[str, Any], path: Path
) -> None:
    """Save the pruned classifier as a checkpoint that `trainrig eval` reads (weights only)."""
    from importlib.metadata import version

    from trainrig.rundir.checkpoint_io import save_atomic
    from trainrig.training.callbacks.config_in_checkpoint import CONFIG_KEY

    checkpoint = {
        "state_dict": {k: v.detach().cpu() for k, v in classifier.state_dict().items()},
        CONFIG_KEY: config,
        PLAN_KEY: pruning_plan,
        "pytorch-lightning_version": version("pytorch-lightning"),
        "epoch": 0,
        "global_step": 0,
    }
    save_atomic(checkpoint, path)
