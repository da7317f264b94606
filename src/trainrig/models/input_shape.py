"""Checks that a model fits the data's input shape, before any weights are made."""

from __future__ import annotations

from collections.abc import Sequence

from trainrig.config.errors import ConfigError


def require_images(model: str, input_shape: Sequence[int]) -> None:
    """Convolutional models need (channels, height, width) inputs."""
    if len(input_shape) != 3:
        raise ConfigError(
            f"model={model} needs image inputs (channels, height, width), but the data gives "
            f"samples of shape {tuple(input_shape)}; use model=mlp for tabular data"
        )
