"""The global random states (Python, NumPy, torch, CUDA) saved in every checkpoint.

Batches are shuffled and augmented from the global generators, so a resumed run restores them
with its last checkpoint and draws the same batches and augmentations as an uninterrupted one.
The states are stored as tensors and plain numbers, which `torch.load(weights_only=True)` reads.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch
from pytorch_lightning import Callback


class RandomStateInCheckpoint(Callback):
    """Saves the random states with each checkpoint; restores them when training resumes."""

    def state_dict(self) -> dict[str, Any]:
        name, keys, position, has_gauss, cached_gaussian = np.random.get_state(legacy=True)
        assert isinstance(keys, np.ndarray)
        states: dict[str, Any] = {
            "python": random.getstate(),
            "numpy": [str(name), torch.from_numpy(keys.astype(np.int64)), int(position)],
            "numpy_gauss": [int(has_gauss), float(cached_gaussian)],
            "torch": torch.get_rng_state(),
        }
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            states["cuda"] = torch.cuda.get_rng_state_all()
        return states

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        version, internal, gauss = state_dict["python"]
        random.setstate((version, tuple(internal), gauss))
        name, keys, position = state_dict["numpy"]
        has_gauss, cached_gaussian = state_dict["numpy_gauss"]
        keys_array = keys.numpy().astype(np.uint32)
        np.random.set_state((name, keys_array, position, has_gauss, cached_gaussian))
        torch.set_rng_state(state_dict["torch"])
        if "cuda" in state_dict and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state_dict["cuda"])
