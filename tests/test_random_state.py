"""The random states in a checkpoint restore Python's, NumPy's and torch's generators exactly,
from the compact layout and from earlier checkpoints' (training/callbacks/random_state.py)."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from trainrig.training.callbacks.random_state import RandomStateInCheckpoint


def _draws() -> tuple[float, float, float]:
    return random.random(), float(np.random.rand()), float(torch.rand(1))


def _saved_and_loaded(state: dict[str, Any], path: Path) -> dict[str, Any]:
    torch.save({"callbacks": {"RandomStateInCheckpoint": state}}, path)
    return torch.load(path, weights_only=True)["callbacks"]["RandomStateInCheckpoint"]  # type: ignore[no-any-return]


def _earlier_layout(state: dict[str, Any]) -> dict[str, Any]:
    """The same state as checkpoints before the compact layout held it: a tuple, tensors."""
    version, words, gauss = state["python"]
    name, keys, position = state["numpy"]
    as_ints = np.frombuffer(words, dtype="<u4").tolist()
    return state | {
        "python": (version, tuple(as_ints), gauss),
        "numpy": [
            name,
            torch.from_numpy(np.frombuffer(keys, dtype="<u4").astype(np.int64)),
            position,
        ],
        "torch": torch.frombuffer(bytearray(state["torch"]), dtype=torch.uint8),
    }


def test_a_saved_state_restores_every_generator_through_a_weights_only_load(
    tmp_path: Path,
) -> None:
    random.seed(3), np.random.seed(4), torch.manual_seed(5)
    _draws()  # somewhere in the streams, not at a seed
    callback = RandomStateInCheckpoint()
    state = callback.state_dict()
    expected = [_draws() for _ in range(3)]
    assert isinstance(state["python"][1], bytes) and len(state["python"][1]) == 625 * 4
    loaded = _saved_and_loaded(state, tmp_path / "new.ckpt")
    random.seed(0), np.random.seed(0), torch.manual_seed(0)
    callback.load_state_dict(loaded)
    assert [_draws() for _ in range(3)] == expected


def test_a_state_in_the_earlier_layout_restores_the_same_streams(tmp_path: Path) -> None:
    np.random.seed(7)
    np.random.randn()  # leaves a cached gaussian in NumPy's state
    callback = RandomStateInCheckpoint()
    state = callback.state_dict()
    expected = [(*_draws(), float(np.random.randn())) for _ in range(2)]
    loaded = _saved_and_loaded(_earlier_layout(state), tmp_path / "old.ckpt")
    assert isinstance(loaded["python"][1], list | tuple)
    random.seed(1), np.random.seed(1), torch.manual_seed(1)
    callback.load_state_dict(loaded)
    assert [(*_draws(), float(np.random.randn())) for _ in range(2)] == expected
