"""The quick exit of the `trainrig` command keeps everything a normal Python exit does."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = """
import atexit, logging, sys, threading, time
from pathlib import Path
from trainrig.cli.process_exit import end_process

out = Path(sys.argv[1])
logging.basicConfig(filename=out / "run.log", level=logging.INFO)
logging.info("logged before the exit")
atexit.register(lambda: (out / "atexit.txt").write_text("ran"))

def late_writer() -> None:
    time.sleep(0.5)
    (out / "thread.txt").write_text("finished")

threading.Thread(target=late_writer).start()
print("printed before the exit", end="")
end_process(3)
print("never printed")
"""


def test_end_process_waits_for_threads_runs_atexit_and_keeps_the_exit_code(
    tmp_path: Path,
) -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 3
    assert done.stdout == "printed before the exit"  # buffered output flushed, nothing after
    assert (tmp_path / "thread.txt").read_text() == "finished"  # a non-daemon thread was waited for
    assert (tmp_path / "atexit.txt").read_text() == "ran"
    assert "logged before the exit" in (tmp_path / "run.log").read_text()


def test_the_trainrig_command_keeps_its_exit_codes(tmp_path: Path) -> None:
    """The console script ends through `run`: 0 for help, 2 for a bad override, as before."""
    base = [sys.executable, "-m", "trainrig"]
    assert subprocess.run([*base, "--help"], capture_output=True, cwd=tmp_path).returncode == 0
    bad = subprocess.run([*base, "train", "model=nope"], capture_output=True, cwd=tmp_path)
    assert bad.returncode == 2
