"""One forward pass on dummy inputs, so a model that does not fit the data fails before training."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from trainrig.config.errors import ConfigError


def check_model_fits(
    model: nn.Module, input_shape: Sequence[int], num_classes: int, name: str
) -> None:
    """Raise ConfigError naming the model and the input shape if a forward pass fails or the
    output is not (batch, num_classes)."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            out = model(torch.zeros(2, *input_shape))
    except RuntimeError as error:
        raise ConfigError(
            f"model={name} does not fit inputs of shape {tuple(input_shape)} "
            f"({str(error).splitlines()[0]}); pick a larger data.image_size or another model"
        ) from None
    finally:
        model.train(was_training)
    if tuple(out.shape) != (2, num_classes):
        raise ConfigError(
            f"model={name} gives outputs of shape {tuple(out.shape[1:])} for inputs of shape "
            f"{tuple(input_shape)}; a classifier over {num_classes} classes needs ({num_classes},)"
        )
