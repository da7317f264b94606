"""What a compression report measures: parameters, sparsity, size on disk, MACs and CPU latency.

Every function takes any `nn.Module`, including one that holds torch.nn.utils.prune masks or one
converted by `torch.ao.quantization.quantize_dynamic`, and measures it as forward uses it.
"""

from __future__ import annotations

import copy
import io
import statistics
import time
import zlib
from collections.abc import Iterator

import torch
from torch import nn
from torch.ao.nn import quantized as nnq
from torch.utils.flop_counter import FlopCounterMode

# Quantized layers: Linear (dynamic too) and the convolutions (fused conv + ReLU too).
PACKED = (nnq.Linear, nnq.Conv1d, nnq.Conv2d, nnq.Conv3d)


def _weights(model: nn.Module) -> Iterator[torch.Tensor]:
    """Each weight tensor of `model` once, as forward uses it (see `count_parameters`)."""
    seen: set[int] = set()
    for module in model.modules():
        if isinstance(module, PACKED):  # their weights are packed int8, not parameters
            yield module.weight().int_repr()
            if (bias := module.bias()) is not None:
                yield bias.detach()
            continue
        for name, param in module.named_parameters(recurse=False):
            if id(param) in seen:  # a tied parameter counts once
                continue
            seen.add(id(param))
            mask = getattr(module, name.removesuffix("_orig") + "_mask", None)
            if name.endswith("_orig") and isinstance(mask, torch.Tensor):
                yield param.detach() * mask  # the weight a pruned module's forward uses
            else:
                yield param.detach()


def count_parameters(model: nn.Module) -> tuple[int, int]:
    """(total, non-zero) parameters of `model`, counted as forward uses them.

    Every parameter counts once (tied ones too). A pruned one (`x_orig` with an `x_mask` buffer,
    as torch.nn.utils.prune leaves them) counts as `x_orig * x_mask`, the `x` forward uses. A
    quantized Linear or Conv (dynamic, static) holds packed int8 weights, not parameters: `weight()`
    (non-zero judged on the int8 values) and `bias()` count. Buffers (masks, batch-norm
    statistics) do not count; nor do the packed weights of other quantized kinds (LSTM, GRU).
    """
    weights = list(_weights(model))
    return sum(w.numel() for w in weights), sum(int(torch.count_nonzero(w)) for w in weights)


def _effective_state(model: nn.Module) -> dict[str, object]:
    """`model.state_dict()` with each pruned `x_orig` and `x_mask` replaced by `x = orig * mask`.

    That is the state dict torch.nn.utils.prune.remove would leave, built without touching `model`.
    """
    state: dict[str, object] = dict(model.state_dict())
    for key in [k for k in state if k.endswith("_orig")]:
        stem = key.removesuffix("_orig")
        orig, mask = state[key], state.get(stem + "_mask")
        if isinstance(orig, torch.Tensor) and isinstance(mask, torch.Tensor):
            del state[key], state[stem + "_mask"]
            state[stem] = orig * mask
    return state


def size_on_disk(model: nn.Module) -> dict[str, int]:
    """Bytes of `model`'s saved state dict: `dense_bytes` and `compressed_bytes`.

    `dense_bytes` is the length of `torch.save` of the state dict, pruning masks folded in (one
    tensor per pruned weight, not `_orig` plus `_mask`); a quantized model saves its packed int8
    weights. `compressed_bytes` is the zlib (deflate, level 9) encoding of those same bytes: what
    pruned zeros save on disk or in transfer, since a dense file stores a zero like any float.
    """
    buffer = io.BytesIO()
    torch.save(_effective_state(model), buffer)
    dense = buffer.getvalue()
    return {"dense_bytes": len(dense), "compressed_bytes": len(zlib.compress(dense, level=9))}


def cpu_latency_ms(model: nn.Module, example: torch.Tensor, repeats: int = 20) -> float:
    """Median milliseconds per forward of the batch `example`, in eval and inference mode on CPU.

    3 warm-up calls come first. A model with anything off the CPU is timed as a CPU copy; a model
    on the CPU is timed as it is, and every submodule's train/eval mode is restored afterwards.
    """
    on_cpu = all(t.device.type == "cpu" for t in [*model.parameters(), *model.buffers()])
    model = model if on_cpu else copy.deepcopy(model).cpu()
    example = example.cpu()
    modes = {module: module.training for module in model.modules()}
    model.eval()
    times: list[float] = []
    try:
        with torch.inference_mode():
            for i in range(3 + repeats):
                start = time.perf_counter()
                model(example)
                if i >= 3:
                    times.append((time.perf_counter() - start) * 1000)
    finally:
        for module, training in modes.items():
            module.training = training
    return statistics.median(times)


def holds_quantized(model: nn.Module) -> bool:
    """Whether `model` runs int8 packed layers, whose kernels torch's FLOP counter does not see."""
    return any(isinstance(module, PACKED) for module in model.modules())


def macs_per_sample(model: nn.Module, example: torch.Tensor) -> float | None:
    """Multiply-accumulates of one forward of one sample (the first of `example`), on the CPU.

    Counted by torch's `FlopCounterMode` (convolutions, linear layers, matrix products; 2 FLOPs
    per multiply-accumulate, so MACs = FLOPs / 2; batch norm, activations and pooling are not
    counted). None for a model with int8 packed layers (`holds_quantized`): their kernels are
    invisible to the counter; such a model does the MACs of the float model it came from.
    """
    if holds_quantized(model):
        return None
    on_cpu = all(t.device.type == "cpu" for t in [*model.parameters(), *model.buffers()])
    model = model if on_cpu else copy.deepcopy(model).cpu()
    modes = {module: module.training for module in model.modules()}
    model.eval()
    counter = FlopCounterMode(display=False)
    try:
        with counter, torch.inference_mode():
            model(example[:1].cpu())
    finally:
        for module, training in modes.items():
            module.training = training
    return counter.get_total_flops() / 2
