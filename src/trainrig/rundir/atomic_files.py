"""Files replaced in one step: a crash never leaves a truncated file under the final name."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any


@contextmanager
def replaced_atomically(path: Path, mode: str = "w") -> Iterator[IO[Any]]:
    """A file to write (`mode` "w" or "wb") that replaces `path` when the block ends.

    It is a temporary file beside `path` (so the rename never crosses file systems), synced,
    then renamed over `path`; if the block raises, it is removed and `path` is left as it was.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode, encoding=None if "b" in mode else "utf-8") as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
