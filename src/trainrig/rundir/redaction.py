"""Credentials in URLs (`scheme://user:password@host`) never leave trainrig unredacted.

Storage and tracking URLs may carry a password; every file trainrig writes (`write_atomic`),
Hydra's saved configs in `.hydra/`, the log handlers and the CLI's error messages pass through
`redacted`, so the password shows as `***`.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from trainrig.rundir.atomic_files import replaced_atomically

# `://` then a user name (maybe empty), `:`, the password (anything up to `@`, no white space).
_CREDENTIALS = re.compile(r"(://[^:/@\s]*:)[^@\s]+@")
MASK = "***"


def redacted(text: str) -> str:
    """`text` with the password of every `scheme://user:password@host` in it replaced by ***."""
    return _CREDENTIALS.sub(rf"\g<1>{MASK}@", text)


def redact_files(folder: Path) -> None:
    """Rewrite the files directly in `folder` (e.g. Hydra's `.hydra/`) that hold a password."""
    if not folder.is_dir():
        return
    for path in sorted(folder.iterdir()):
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        if (clean := redacted(text)) != text:
            with replaced_atomically(path) as file:
                file.write(clean)


class RedactingFilter(logging.Filter):
    """A log filter that redacts each record's message before a handler writes it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redacted(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True


def redact_logs() -> None:
    """Add a `RedactingFilter` to every handler of the root logger (Hydra's console and file)."""
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
