"""A file a run could not write or read (full disk, no permission, a folder gone) as one line
that names the file, the cause and the way out."""

from __future__ import annotations

import errno
import os

WAYS_OUT = {
    errno.ENOSPC: "free space on that file system, or write runs to another (hydra.run.dir=...)",
    errno.EDQUOT: "free space within your quota, or write runs elsewhere (hydra.run.dir=...)",
    errno.EFBIG: "the file is over the size limit (ulimit -f); raise it or write runs elsewhere",
    errno.EACCES: "make the folder writable for you, or write runs elsewhere (hydra.run.dir=...)",
    errno.EPERM: "make the folder writable for you, or write runs elsewhere (hydra.run.dir=...)",
    errno.EROFS: "that file system is read-only; write runs elsewhere (hydra.run.dir=...)",
    errno.ENOENT: "its folder was removed while the run wrote to it; start the run again",
    errno.ENOTDIR: "a file stands where a folder of the path should be; move it or pick another "
    "hydra.run.dir",
    errno.EIO: "the storage reported an input/output error; check the disk or the network mount",
}
# Errors only writing meets; the others may come from reading too.
WRITING = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS}


def io_error_in(error: BaseException) -> OSError | None:
    """The OSError behind `error`: itself, or what a library (torch.save) met and wrapped."""
    for candidate in (error, error.__cause__, error.__context__):
        if isinstance(candidate, OSError) and candidate.errno in WAYS_OUT:
            return candidate
    return None


def io_error_message(error: BaseException) -> str | None:
    """One line for a file that could not be written or read, or None for another error."""
    found = io_error_in(error)
    if found is None:
        return None
    name = os.fsdecode(found.filename) if found.filename else "a file of the run"
    cause = found.strerror or os.strerror(found.errno or 0)
    verb = "write" if found.errno in WRITING else "use"
    return f"cannot {verb} {name} ({cause}); {WAYS_OUT[found.errno or 0]}"


def with_file_name(error: BaseException, path: str) -> OSError | None:
    """The OSError behind `error` given the file's name (torch.save's wrapped one has none)."""
    found = io_error_in(error)
    if found is None or found.filename:
        return found
    return OSError(found.errno, found.strerror, path)
