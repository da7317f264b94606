"""How trainrig's Lightning Trainers write and read checkpoints: atomically, and weights only.

Lightning's own `TorchCheckpointIO` writes through an fsspec transaction whose temporary file
lies in the system's temp folder; when that is another file system than the run directory (a
tmpfs /tmp, a container volume), the final move is a copy into the final name, so a crash can
leave a truncated `best.ckpt`. Here the temporary file lies next to the final one, is synced,
then renamed over it (`os.replace`, atomic on POSIX). Loading always passes
`torch.load(weights_only=True)`, whatever the caller asked, so no checkpoint Lightning restores
(`ckpt_path="best"`, a resumed fit) can run code.
"""

from __future__ import annotations

from collections.abc import Callable
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


class SafeCheckpointIO(TorchCheckpointIO):
    """Lightning's checkpoint IO for local paths, with atomic saves and weights-only loads."""

    def save_checkpoint(
        self,
        checkpoint: dict[str, Any],
        path: str | Path,
        storage_options: Any | None = None,
    ) -> None:
        """Write `checkpoint` to `path` atomically (remote URLs: Lightning's own way)."""
        if storage_options is not None or "://" in str(path):
            super().save_checkpoint(checkpoint, path, storage_options)
            return
        save_atomic(checkpoint, Path(path))

    def load_checkpoint(
        self,
        path: str | Path,
        map_location: Callable[..., Any] | None = lambda storage, loc: storage,
        weights_only: bool | None = None,
    ) -> dict[str, Any]:
        """Read the checkpoint at `path`: tensors and plain data only, never pickled code."""
        return super().load_checkpoint(path, map_location=map_location, weights_only=True)
