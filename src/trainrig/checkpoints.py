"""Reading trainrig checkpoints safely (tensors and plain data only, never arbitrary code)."""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from trainrig.callbacks.config_in_checkpoint import CONFIG_KEY
from trainrig.errors import ConfigError


def load_config_from_checkpoint(path: Path) -> DictConfig:
    """The resolved training config stored in a checkpoint by `ConfigInCheckpoint`."""
    import torch

    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        raise ConfigError(
            f"ckpt_path: cannot read {path} as a checkpoint ({type(error).__name__}: "
            f"{str(error).splitlines()[0] if str(error) else 'no detail'}); is the file complete?"
        ) from None
    if not isinstance(checkpoint, dict) or CONFIG_KEY not in checkpoint:
        raise ConfigError(
            f"ckpt_path: {path} was not written by `trainrig train` (it holds no '{CONFIG_KEY}')"
        )
    config = OmegaConf.create(checkpoint[CONFIG_KEY])
    assert isinstance(config, DictConfig)
    return config
