"""How trainrig's Lightning Trainers write and read checkpoints: atomically, and weights only.

Lightning's own `TorchCheckpointIO` writes through an fsspec transaction whose temporary file
lies in the system's temp folder; when that is another file system than the run directory (a
tmpfs /tmp, a container volume), the final move is a copy into the final name, so a crash can
leave a truncated `best.ckpt`. Here the temporary file lies next to the final one, is synced,
then renamed over it (`os.replace`, atomic on POSIX). A checkpoint of the same training state
as the one written just before (best.ckpt and last.ckpt at the end of an improving epoch) is a
hard link to that file instead of a second copy: half the writes and half the disk, and, unlike
Lightning's `save_last="link"` symlink, it keeps its content when the other file is later
replaced or removed. Loading always passes
`torch.load(weights_only=True)`, whatever the caller asked, so no checkpoint Lightning restores
(`ckpt_path="best"`, a resumed fit) can run code.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from lightning_fabric.plugins.io.torch_io import TorchCheckpointIO

from trainrig.rundir.atomic_files import replaced_atomically
from trainrig.rundir.io_errors import with_file_name


def save_atomic(obj: Any, path: Path) -> None:
    """`torch.save(obj)` to `path` through a synced temporary file in the same folder."""
    try:
        with replaced_atomically(path, "wb") as file:
            torch.save(obj, file)
    except RuntimeError as error:  # torch wraps the OSError its writer met (a full disk)
        found = with_file_name(error, str(path))
        if found is None:
            raise
        raise found from error


def link_atomic(source: Path, path: Path) -> bool:
    """Make `path` a hard link to `source` in one step; False where the file system cannot
    (another device, no hard links), leaving `path` as it was."""
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.link")
    try:
        os.link(source, temporary)
    except OSError:
        return False
    try:
        os.replace(temporary, path)
    except OSError:
        temporary.unlink(missing_ok=True)
        return False
    return True


@dataclass(frozen=True)
class WrittenCheckpoint:
    """A checkpoint file this IO wrote: where, which file (inode and time), and the training
    state it holds (its keys, epoch, step and loop progress)."""

    path: Path
    file: tuple[int, int]
    state: tuple[object, ...]

    @staticmethod
    def state_of(checkpoint: dict[str, Any]) -> tuple[object, ...]:
        """What must match for two checkpoints to hold the same training state."""
        keys = tuple(sorted(checkpoint))
        return keys, checkpoint.get("epoch"), checkpoint.get("global_step"), checkpoint.get("loops")

    @staticmethod
    def identity(path: Path) -> tuple[int, int]:
        """The file at `path` as (inode, modification time): a file replaced or rewritten since
        differs (only files of one folder, so of one device, are compared)."""
        found = path.stat()
        return found.st_ino, found.st_mtime_ns

    def holds(self, state: tuple[object, ...], path: Path) -> bool:
        """Whether `state` (`state_of` a checkpoint to be written at `path`, in this file's
        folder) is this file's training state, and the file is still the one written."""
        if path.parent != self.path.parent:
            return False
        try:
            same = self.state == state
            return bool(same) and self.identity(self.path) == self.file
        except (OSError, RuntimeError, ValueError):  # gone, or loop states that hold tensors
            return False


class SafeCheckpointIO(TorchCheckpointIO):
    """Lightning's checkpoint IO for local paths, with atomic saves and weights-only loads."""

    written: WrittenCheckpoint | None = None  # the last checkpoint this IO wrote

    def save_checkpoint(
        self,
        checkpoint: dict[str, Any],
        path: str | Path,
        storage_options: Any | None = None,
    ) -> None:
        """Write `checkpoint` to `path` atomically (remote URLs: Lightning's own way); a hard
        link to the checkpoint written just before when that one holds the same state."""
        if storage_options is not None or "://" in str(path):
            super().save_checkpoint(checkpoint, path, storage_options)
            return
        target = Path(path).absolute()
        state = WrittenCheckpoint.state_of(checkpoint)
        before = self.written
        if (
            before is None
            or not before.holds(state, target)
            or not link_atomic(before.path, target)
        ):
            save_atomic(checkpoint, target)
        self.written = WrittenCheckpoint(target, WrittenCheckpoint.identity(target), state)

    def load_checkpoint(
        self,
        path: str | Path,
        map_location: Callable[..., Any] | None = lambda storage, loc: storage,
        weights_only: bool | None = None,
    ) -> dict[str, Any]:
        """Read the checkpoint at `path`: tensors and plain data only, never pickled code."""
        return super().load_checkpoint(path, map_location=map_location, weights_only=True)
