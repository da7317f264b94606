"""End the `trainrig` process without Python's module teardown, which takes about 0.7 s once
torch and Lightning are loaded (1 s after a sweep) and does nothing a finished command needs."""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
import threading
from typing import NoReturn


def end_process(code: int) -> NoReturn:
    """Exit with `code` as Python would, minus the teardown: wait for the threads that are not
    daemons, run the atexit handlers (logging closes its files there, multiprocessing joins its
    children), flush standard output and error, then os._exit."""
    for thread in threading.enumerate():
        if thread is not threading.current_thread() and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        # a closed pipe (`trainrig ... | head`) or a closed stream has nothing left to flush
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)
