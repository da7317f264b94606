"""The one exception type for problems the user can fix, and how the CLI reports them."""

from __future__ import annotations

import os
import sys
from typing import NoReturn

EXIT_CONFIG_ERROR = 2
EXIT_RUNTIME_ERROR = 1
# Set by the CLI while it reports errors itself; unset when the user asked for tracebacks.
ONE_LINE_ERRORS_FLAG = "TRAINRIG_ONE_LINE_ERRORS"


def one_line_errors() -> bool:
    """Whether errors are reported as one line (the default) rather than raised with a traceback."""
    return os.environ.get(ONE_LINE_ERRORS_FLAG) == "1"


def print_warning(message: str) -> None:
    """Print `trainrig: warning: MESSAGE` on stderr: something the user chose that is unsafe."""
    print(f"trainrig: warning: {message}", file=sys.stderr)


class ConfigError(Exception):
    """A bad config value, option, key or path; the message names it and the way out."""


class RunError(Exception):
    """A run that cannot go on (its loss diverged, its disk is full); the message says where,
    why and the way out. The CLI prints it as one line and exits 1."""


def config_error_in(error: BaseException) -> ConfigError | None:
    """The ConfigError behind `error` (e.g. raised inside a builder Hydra instantiated), if any."""
    current: BaseException | None = error
    while current is not None:
        if isinstance(current, ConfigError):
            return current
        current = current.__cause__
    return None


def exit_with(message: str, status: int = EXIT_CONFIG_ERROR) -> NoReturn:
    """Print `trainrig: error: MESSAGE` (passwords in URLs redacted) on stderr and exit with
    `status` (2: bad input)."""
    from trainrig.rundir.redaction import redacted

    print(f"trainrig: error: {redacted(message)}", file=sys.stderr)
    raise SystemExit(status)
