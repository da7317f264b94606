"""Any torchvision classification model by name, fresh or from a local weights file."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from trainrig.config.errors import ConfigError
from trainrig.config.signature import option
from trainrig.models.input_shape import require_images

log = logging.getLogger(__name__)
RGB_CHANNELS = 3

if TYPE_CHECKING:
    from torch import nn


@option("model", partial=True)
def build_torchvision(
    input_shape: Sequence[int],
    num_classes: int,
    /,
    name: str = "resnet18",
    weights_path: str | None = None,
) -> nn.Module:
    """`torchvision.models.get_model(name)` with a `num_classes` head, never downloading weights.

    `weights_path` loads a local state dict (e.g. ImageNet weights saved with `torch.save`);
    tensors whose shape differs (the classification head, usually) keep their fresh init.
    Inputs with other than 3 channels get a learned 1x1 convolution to 3 channels in front.
    """
    import torchvision
    from torch import nn

    require_images("torchvision", input_shape)
    available = sorted(torchvision.models.list_models(module=torchvision.models))
    if name not in available:
        raise ConfigError(
            f"model.name: {name!r} is not a torchvision classification model; "
            f"choose one of {', '.join(available)}"
        )
    model: nn.Module = torchvision.models.get_model(name, weights=None, num_classes=num_classes)
    if weights_path is not None:
        _load_matching(model, weights_path)
    if input_shape[0] != RGB_CHANNELS:
        return nn.Sequential(nn.Conv2d(input_shape[0], RGB_CHANNELS, 1), model)
    return model


def _load_matching(model: nn.Module, weights_path: str) -> None:
    """Copy every tensor of the file whose name and shape match; say which were skipped."""
    import torch

    try:
        weights = torch.load(weights_path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise ConfigError(f"model.weights_path: no file at {weights_path}") from None
    except Exception as error:
        raise ConfigError(f"model.weights_path: cannot read {weights_path}: {error}") from None
    own = model.state_dict()
    matching = {k: v for k, v in weights.items() if k in own and own[k].shape == v.shape}
    if not matching:
        raise ConfigError(
            f"model.weights_path: no tensor in {weights_path} matches the model's names and "
            "shapes; is it a state dict of the same architecture?"
        )
    skipped = sorted(set(own) - set(matching))
    model.load_state_dict(matching, strict=False)
    log.info("loaded %d tensors from %s; kept fresh: %s", len(matching), weights_path, skipped)
