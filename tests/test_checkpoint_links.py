"""best.ckpt and last.ckpt of the same training state are one file (a hard link), not two
copies, and each keeps its own content when the other is rewritten (rundir/checkpoint_io.py)."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from trainrig.rundir.checkpoint_io import SafeCheckpointIO, link_atomic


def _state(epoch: int, weight: float = 1.0) -> dict[str, Any]:
    """A checkpoint as Lightning's `dump_checkpoint` shapes it, small."""
    return {
        "epoch": epoch,
        "global_step": 10 * (epoch + 1),
        "loops": {"fit_loop": {"epoch_progress": {"completed": epoch}}},
        "state_dict": {"w": torch.full((4,), weight)},
        "optimizer_states": [{"state": {}}],
    }


def _inode(path: Path) -> int:
    return path.stat().st_ino


def test_the_same_state_saved_twice_is_one_file_that_survives_the_other_being_replaced(
    tmp_path: Path,
) -> None:
    io = SafeCheckpointIO()
    best, last = tmp_path / "best.ckpt", tmp_path / "last.ckpt"
    io.save_checkpoint(_state(0), best)
    io.save_checkpoint(_state(0), last)
    assert _inode(best) == _inode(last)
    io.save_checkpoint(_state(1, weight=2.0), last)  # the next epoch, not better: last alone
    assert _inode(best) != _inode(last)
    assert torch.load(best, weights_only=True)["epoch"] == 0
    io.save_checkpoint(_state(2, weight=3.0), best)
    io.save_checkpoint(_state(2, weight=3.0), last)
    io.save_checkpoint(_state(3, weight=4.0), best)  # best replaced: the linked last keeps epoch 2
    loaded = torch.load(last, weights_only=True)
    assert loaded["epoch"] == 2 and torch.equal(loaded["state_dict"]["w"], torch.full((4,), 3.0))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.ckpt", "last.ckpt"]  # no leftovers


def test_another_state_at_the_same_step_is_written_on_its_own(tmp_path: Path) -> None:
    io = SafeCheckpointIO()
    io.save_checkpoint(_state(0), tmp_path / "best.ckpt")
    weights_only = {k: v for k, v in _state(0).items() if k != "optimizer_states"}
    io.save_checkpoint(weights_only, tmp_path / "weights.ckpt")
    assert _inode(tmp_path / "weights.ckpt") != _inode(tmp_path / "best.ckpt")
    before_validation = _state(0) | {"loops": {"fit_loop": {"epoch_progress": {"completed": -1}}}}
    io.save_checkpoint(before_validation, tmp_path / "early.ckpt")
    assert _inode(tmp_path / "early.ckpt") != _inode(tmp_path / "weights.ckpt")
    assert "optimizer_states" not in torch.load(tmp_path / "weights.ckpt", weights_only=True)


def test_a_file_changed_or_removed_since_it_was_written_is_not_linked(tmp_path: Path) -> None:
    io = SafeCheckpointIO()
    best, last = tmp_path / "best.ckpt", tmp_path / "last.ckpt"
    io.save_checkpoint(_state(0), best)
    torch.save({"foreign": 1}, best.with_suffix(".new"))
    os.replace(best.with_suffix(".new"), best)  # someone else's file now
    io.save_checkpoint(_state(0), last)
    assert _inode(last) != _inode(best) and torch.load(last, weights_only=True)["epoch"] == 0
    other = SafeCheckpointIO()
    other.save_checkpoint(_state(5), tmp_path / "a.ckpt")
    (tmp_path / "a.ckpt").unlink()
    other.save_checkpoint(_state(5), tmp_path / "b.ckpt")  # nothing to link to: written whole
    assert torch.load(tmp_path / "b.ckpt", weights_only=True)["epoch"] == 5


@pytest.mark.parametrize(
    "change",
    [
        {"epoch": 9},
        {"global_step": 999},
        {"loops": {"fit_loop": {"epoch_progress": {"completed": -1}}}},
        {"extra": 1},
    ],
    ids=["epoch", "step", "loops", "keys"],
)
def test_a_state_that_differs_in_one_part_is_written_on_its_own(
    tmp_path: Path, change: dict[str, Any]
) -> None:
    io = SafeCheckpointIO()
    io.save_checkpoint(_state(0), tmp_path / "best.ckpt")
    io.save_checkpoint(_state(0) | change, tmp_path / "last.ckpt")
    assert _inode(tmp_path / "last.ckpt") != _inode(tmp_path / "best.ckpt")
    assert set(torch.load(tmp_path / "last.ckpt", weights_only=True)) == set(_state(0) | change)


def test_a_file_rewritten_in_place_or_replaced_at_the_same_time_is_not_linked(
    tmp_path: Path,
) -> None:
    io = SafeCheckpointIO()
    best = tmp_path / "best.ckpt"
    io.save_checkpoint(_state(0), best)
    with best.open("r+b") as file:  # the same inode, new bytes: its time moves on
        file.write(b"P")
    os.utime(best, ns=(best.stat().st_atime_ns, best.stat().st_mtime_ns + 1_000_000))
    io.save_checkpoint(_state(0), tmp_path / "last.ckpt")
    assert _inode(tmp_path / "last.ckpt") != _inode(best)

    other = SafeCheckpointIO()
    first = tmp_path / "first.ckpt"
    other.save_checkpoint(_state(1), first)
    written = first.stat()
    torch.save({"foreign": 1}, tmp_path / "foreign.ckpt")
    os.replace(tmp_path / "foreign.ckpt", first)  # another file, given the same time
    os.utime(first, ns=(written.st_atime_ns, written.st_mtime_ns))
    other.save_checkpoint(_state(1), tmp_path / "second.ckpt")
    assert torch.load(tmp_path / "second.ckpt", weights_only=True)["epoch"] == 1


def test_a_checkpoint_in_another_folder_is_written_on_its_own(tmp_path: Path) -> None:
    io = SafeCheckpointIO()
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    io.save_checkpoint(_state(0), tmp_path / "a" / "best.ckpt")
    io.save_checkpoint(_state(0), tmp_path / "b" / "best.ckpt")
    assert _inode(tmp_path / "a" / "best.ckpt") != _inode(tmp_path / "b" / "best.ckpt")


@pytest.mark.parametrize("progress", [torch.arange(3), np.arange(3)], ids=["tensor", "numpy array"])
def test_loop_states_that_cannot_be_compared_are_written_whole(
    tmp_path: Path, progress: object
) -> None:
    io = SafeCheckpointIO()
    for name in ("best.ckpt", "last.ckpt"):  # equal loop states, each dumped anew
        loops = {"fit_loop": {"progress": copy.deepcopy(progress)}}
        io.save_checkpoint(_state(0) | {"loops": loops}, tmp_path / name)
    assert _inode(tmp_path / "last.ckpt") != _inode(tmp_path / "best.ckpt")


def test_link_atomic_leaves_the_target_as_it_was_where_it_cannot_link(tmp_path: Path) -> None:
    target = tmp_path / "last.ckpt"
    target.write_bytes(b"before")
    assert link_atomic(tmp_path / "missing.ckpt", target) is False
    assert target.read_bytes() == b"before"
    source = tmp_path / "best.ckpt"
    source.write_bytes(b"best")
    folder = tmp_path / "taken"
    (folder / "inside").mkdir(parents=True)  # a folder, not empty, where the file should go
    assert link_atomic(source, folder) is False
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.ckpt", "last.ckpt", "taken"]
    assert link_atomic(source, target) is True and target.read_bytes() == b"best"
