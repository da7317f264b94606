"""Schemas of the `model` options."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from omegaconf import MISSING

from trainrig.config.errors import ConfigError
from trainrig.config.schema.fields import bounded


@dataclass
class CNNConfig:
    _target_: str = "trainrig.models.cnn.build_cnn"
    _partial_: bool = True
    channels: list[int] = bounded(factory=lambda: [32, 64, 128], ge=1)
    kernel_size: int = bounded(3, ge=1)
    batch_norm: bool = True
    dropout: float = bounded(0.0, ge=0, lt=1)
    pooling: str = bounded("max", choices=("max", "avg"))

    def __post_init__(self) -> None:
        if not self.channels:
            raise ConfigError(
                "model.channels must list at least one conv block width, e.g. [32, 64]"
            )


@dataclass
class ResNetConfig:
    _target_: str = "trainrig.models.resnet.build_resnet"
    _partial_: bool = True
    width: int = bounded(32, ge=1)
    stages: int = bounded(3, ge=1, le=6)
    blocks_per_stage: int = bounded(2, ge=1)
    batch_norm: bool = True


@dataclass
class TorchvisionConfig:
    _target_: str = "trainrig.models.torchvision_models.build_torchvision"
    _partial_: bool = True
    name: str = MISSING
    weights_path: Optional[str] = None


ACTIVATIONS = ("relu", "gelu", "silu", "tanh", "leaky_relu")


@dataclass
class MLPConfig:
    _target_: str = "trainrig.models.mlp.build_mlp"
    _partial_: bool = True
    hidden_sizes: list[int] = bounded(factory=lambda: [256, 128], ge=1)
    activation: str = bounded("relu", choices=ACTIVATIONS)
    batch_norm: bool = True
    dropout: float = bounded(0.0, ge=0, lt=1)


# ---------------------------------------------------------------- optimizers and schedules
