"""Where a sequential model splits into pipeline stages: given layer names or balanced by
parameter count, and why a model cannot be split.

A stage is a run of consecutive top-level layers of an `nn.Sequential`; stage k's output is stage
k+1's input, so a model whose forward branches around its layers (skip connections across
layers, several inputs) has no such cut. A stage may not begin with an in-place layer (ReLU with
`inplace=True`): it would overwrite the activation received from the previous stage, which the
backward pass still needs.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from trainrig.config.errors import ConfigError


def _in_place(layer: nn.Module) -> bool:
    return bool(getattr(layer, "inplace", False))


def layer_names(model: nn.Module, what: str) -> list[str]:
    """The top-level layer names of `model` (an `nn.Sequential`); refuses any other model."""
    if not isinstance(model, nn.Sequential):
        raise ConfigError(
            f"strategy=pipeline: the model {what} is a {type(model).__name__}, not an "
            "nn.Sequential, so it has no sequence of layers to cut into stages (its forward may "
            "branch): build it as an nn.Sequential (trainrig's cnn, mlp and resnet are), or use "
            "strategy=ddp, or strategy=fsdp on GPUs"
        )
    return [name for name, _ in model.named_children()]


def stage_starts(
    model: nn.Module, stages: int, split_at: Sequence[str] | None, what: str = "model"
) -> list[int]:
    """The index of each stage's first layer (the first is 0): at the `split_at` layers, or
    where the stages' parameter counts are most even (the largest stage as small as it can be)."""
    names = layer_names(model, what)
    layers = list(model.children())
    allowed = [i for i in range(1, len(layers)) if not _in_place(layers[i])]
    if split_at is not None:
        return _given_starts(names, layers, stages, list(split_at), what)
    if len(allowed) < stages - 1:
        raise ConfigError(
            f"strategy=pipeline: the model {what} has {len(layers)} layers and "
            f"{len(allowed)} places to cut (not before an in-place layer), too few for "
            f"{stages} stages: use fewer processes (trainer.devices), or strategy=ddp"
        )
    sizes = [sum(p.numel() for p in layer.parameters()) for layer in layers]
    return _balanced(sizes, allowed, stages)


def _given_starts(
    names: list[str], layers: list[nn.Module], stages: int, split_at: list[str], what: str
) -> list[int]:
    if len(split_at) != stages - 1:
        raise ConfigError(
            f"strategy.split_at names {len(split_at)} layers but {stages} stages need "
            f"{stages - 1} cuts (the layer each stage after the first begins with): e.g. "
            f"strategy.split_at=[{','.join(names[1:stages])}], or leave split_at out to balance"
        )
    starts = [0]
    for name in split_at:
        if name not in names:
            raise ConfigError(
                f"strategy.split_at: the model {what} has no top-level layer {name!r}; its "
                f"layers are {', '.join(names)}"
            )
        index = names.index(name)
        if index <= starts[-1]:
            raise ConfigError(
                f"strategy.split_at: {name!r} is not after the previous cut; list the layers in "
                "the model's order, each once, and not the first layer"
            )
        if _in_place(layers[index]):
            raise ConfigError(
                f"strategy.split_at: layer {name!r} ({type(layers[index]).__name__}) works in "
                "place and would overwrite the activation the previous stage sent; cut before "
                "or after it"
            )
        starts.append(index)
    return starts


def _balanced(sizes: list[int], allowed: list[int], stages: int) -> list[int]:
    """Cuts among `allowed` minimizing the largest stage's parameter count (dynamic programming
    over (stages used, cut position); a few dozen layers at most)."""
    positions = [0, *allowed]
    prefix = [0]
    for size in sizes:
        prefix.append(prefix[-1] + size)
    end = len(sizes)

    def cost(start: int, stop: int) -> int:
        return prefix[stop] - prefix[start]

    # best[k][j]: (largest stage, cuts) for layers positions[j]..end in k stages
    best: dict[tuple[int, int], tuple[int, list[int]]] = {}
    for j in range(len(positions)):
        best[1, j] = (cost(positions[j], end), [positions[j]])
    for k in range(2, stages + 1):
        for j in range(len(positions)):
            options = [
                (max(cost(positions[j], positions[n]), best[k - 1, n][0]), n)
                for n in range(j + 1, len(positions))
                if (k - 1, n) in best
            ]
            if options:
                largest, n = min(options)
                best[k, j] = (largest, [positions[j], *best[k - 1, n][1]])
    return best[stages, 0][1]


def stage_layers(
    model: nn.Sequential, starts: list[int], stage: int
) -> list[tuple[str, nn.Module]]:
    """(name, layer) of stage `stage`'s layers, under their names in the whole model."""
    children = list(model.named_children())
    stop = starts[stage + 1] if stage + 1 < len(starts) else len(children)
    return children[starts[stage] : stop]
