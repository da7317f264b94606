"""Files replaced in one step: a crash never leaves a truncated file under the final name."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any


def process_umask() -> int:
    """The process's umask (os.umask only reports it by setting it, so it is set back at once)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def temporary_beside(path: Path, suffix: str = ".tmp") -> tuple[int, str]:
    """A new temporary file in `path`'s folder (descriptor, name) with the mode a plain `open()`
    would give `path` (0o666 less the umask), not mkstemp's private 0o600: a run's files are
    for its readers too (teammates, a TensorBoard or MLflow server under another account)."""
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
    os.fchmod(fd, 0o666 & ~process_umask())
    return fd, name


@contextmanager
def replaced_atomically(path: Path, mode: str = "w") -> Iterator[IO[Any]]:
    """A file to write (`mode` "w" or "wb") that replaces `path` when the block ends.

    It is a temporary file beside `path` (so the rename never crosses file systems), synced,
    then renamed over `path`; if the block raises, it is removed and `path` is left as it was.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = temporary_beside(path)
    try:
        with os.fdopen(fd, mode, encoding=None if "b" in mode else "utf-8") as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, path)
    except OSError as error:  # a full disk met while writing or closing: name the file
        Path(tmp).unlink(missing_ok=True)
        if error.filename is not None or error.errno is None:
            raise
        raise OSError(error.errno, error.strerror, str(path)) from error
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
