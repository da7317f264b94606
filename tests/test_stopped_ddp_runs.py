"""A signal to one rank of a DDP run (CPU, gloo) stops every rank after the same batch; the
interrupted epoch resumes to each epoch's rows once (issue 25, point 1)."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import psutil
import pytest

from .test_stopped_runs import RUN, _start, _trained_epochs, _validated_epochs, _when_validated

# A rank left waiting would wait 2 minutes (also the time rank 1 has to start: slow on a loaded
# machine), not 30.
DDP = ["strategy=ddp", "trainer.devices=2", "strategy.timeout_minutes=2"]


def _rank_1(launcher: psutil.Process) -> psutil.Process:
    """The process Lightning's launcher started for rank 1 (LOCAL_RANK=1 in its environment)."""
    (rank,) = [p for p in launcher.children() if p.environ().get("LOCAL_RANK") == "1"]
    return rank


@pytest.mark.slow
def test_sigterm_to_rank_1_alone_stops_every_rank_and_the_resumed_run_finishes(
    tmp_path: Path,
) -> None:
    """SIGTERM, the signal Lightning's own handler broadcast from within (SIGINT takes the same
    way in trainrig's handler)."""
    signum = signal.SIGTERM
    run_dir = tmp_path / "run"
    launcher = _start(tmp_path, "train", *RUN, "trainer.max_epochs=3", *DDP, "hydra.run.dir=run")
    _when_validated(launcher, run_dir, 0)
    rank_1 = _rank_1(psutil.Process(launcher.pid))
    sent = time.monotonic()
    rank_1.send_signal(signum)
    _, stderr = launcher.communicate(timeout=180)
    assert time.monotonic() - sent < 15, "the ranks waited for each other (120 s)"
    assert launcher.returncode == 128 + signum, stderr
    rank_1.wait(timeout=5)  # ended too (its status is its parent's to read: rank 0)
    last_line = stderr.strip().splitlines()[-1]
    assert last_line.startswith(f"interrupted by {signum.name} at epoch "), last_line
    assert stderr.count("interrupted by") == 1  # rank 0 says it, for all
    assert (run_dir / "checkpoints" / "last.ckpt").is_file()
    assert not (run_dir / "metrics.json").exists()

    resumed = _start(tmp_path, "resume", str(run_dir))
    _, stderr = resumed.communicate(timeout=180)
    assert resumed.returncode == 0, stderr
    assert (run_dir / "metrics.json").is_file()
    assert _validated_epochs(run_dir) == [0, 1, 2]
    assert _trained_epochs(run_dir) == [0, 1, 2]
