"""The global random states (Python, NumPy, torch, CUDA) saved in every checkpoint.

Batches are shuffled and augmented from the global generators, so a resumed run restores them
with its last checkpoint and draws the same batches and augmentations as an uninterrupted one.
The Mersenne Twister words (Python's, NumPy's) and torch's state are stored as little-endian
bytes, one object each, which `torch.load(weights_only=True)` reads: pickling Python's state as
a tuple of 625 ints, and each state as a tensor (an archive record of its own), made every
checkpoint save about 0.5 ms slower. Checkpoints of earlier versions (a tuple, tensors) still load.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch
from pytorch_lightning import Callback

WORDS = np.dtype("<u4")  # a Mersenne Twister word, little-endian on every platform


def _words(values: Any) -> tuple[int, ...]:
    """Mersenne Twister words as stored: bytes, or (older checkpoints) a tensor or a sequence."""
    if isinstance(values, bytes):
        return tuple(np.frombuffer(values, dtype=WORDS).tolist())
    if isinstance(values, torch.Tensor):
        return tuple(values.tolist())
    return tuple(values)


def _torch_state(stored: bytes | torch.Tensor) -> torch.Tensor:
    """torch's generator state as `torch.set_rng_state` takes it (a uint8 tensor)."""
    if isinstance(stored, torch.Tensor):
        return stored
    return torch.frombuffer(bytearray(stored), dtype=torch.uint8)


class RandomStateInCheckpoint(Callback):
    """Saves the random states with each checkpoint; restores them when training resumes."""

    def state_dict(self) -> dict[str, Any]:
        name, keys, position, has_gauss, cached_gaussian = np.random.get_state(legacy=True)
        assert isinstance(keys, np.ndarray)
        version, internal, gauss = random.getstate()
        states: dict[str, Any] = {
            "python": [version, np.array(internal, dtype=WORDS).tobytes(), gauss],
            "numpy": [str(name), keys.astype(WORDS).tobytes(), int(position)],
            "numpy_gauss": [int(has_gauss), float(cached_gaussian)],
            "torch": torch.get_rng_state().numpy().tobytes(),
        }
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            states["cuda"] = torch.cuda.get_rng_state_all()
        return states

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        version, internal, gauss = state_dict["python"]
        random.setstate((version, _words(internal), gauss))
        name, keys, position = state_dict["numpy"]
        has_gauss, cached_gaussian = state_dict["numpy_gauss"]
        keys_array = np.array(_words(keys), dtype=np.uint32)
        np.random.set_state((name, keys_array, position, has_gauss, cached_gaussian))
        torch.set_rng_state(_torch_state(state_dict["torch"]))
        if "cuda" in state_dict and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state_dict["cuda"])
