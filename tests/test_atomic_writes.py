"""A crash never leaves a truncated file under a final name; metrics.json means "finished"."""

from __future__ import annotations

import errno
import os
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import torch
from omegaconf import DictConfig

from trainrig.rundir.checkpoint_io import SafeCheckpointIO, save_atomic
from trainrig.rundir.results import write_atomic
from trainrig.training.build import build_trainer

from .conftest import REPO_ROOT


class FailsHalfway:
    """Pickling this raises part-way through torch.save, as a full disk would."""

    def __reduce__(self) -> tuple[object, ...]:
        raise OSError("disk full")


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_a_failed_checkpoint_save_keeps_the_previous_file(tmp_path: Path) -> None:
    path = tmp_path / "best.ckpt"
    SafeCheckpointIO().save_checkpoint({"epoch": 1, "w": torch.ones(3)}, path)
    with pytest.raises(OSError, match="disk full"):
        SafeCheckpointIO().save_checkpoint({"w": torch.zeros(10_000), "x": FailsHalfway()}, path)
    assert torch.load(path, weights_only=True)["epoch"] == 1
    assert _leftovers(tmp_path) == []


def test_save_atomic_replaces_the_file_in_one_step(tmp_path: Path) -> None:
    path = tmp_path / "compressed.pt"
    save_atomic({"a": torch.ones(2)}, path)
    before = path.stat().st_ino
    save_atomic({"a": torch.zeros(2)}, path)
    assert path.stat().st_ino != before  # a new file renamed over it, not rewritten in place
    assert torch.equal(torch.load(path, weights_only=True)["a"], torch.zeros(2))


@contextmanager
def _file_size_limit(size: int) -> Iterator[None]:
    """Writes past `size` bytes fail with EFBIG (as a full disk fails with ENOSPC), for a while."""
    ignored = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # else the kernel's signal kills us
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, ignored)


def test_a_file_too_large_to_write_is_named_and_the_previous_one_kept(tmp_path: Path) -> None:
    path = tmp_path / "best.ckpt"
    save_atomic({"epoch": 1}, path)
    with _file_size_limit(1 << 16), pytest.raises(OSError) as failed:
        save_atomic({"w": torch.zeros(100_000)}, path)  # torch.save raises a RuntimeError
    assert (failed.value.errno, failed.value.filename) == (errno.EFBIG, str(path))
    assert torch.load(path, weights_only=True) == {"epoch": 1}
    assert _leftovers(tmp_path) == []


class NotSaveable:
    """Pickling this raises a RuntimeError that no file error caused."""

    def __reduce__(self) -> tuple[object, ...]:
        raise RuntimeError("cannot save this object")


def test_a_save_failing_for_another_reason_raises_its_own_error(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match=r"^cannot save this object$"):
        save_atomic({"x": NotSaveable()}, tmp_path / "best.ckpt")


def test_a_failed_text_write_keeps_the_previous_file(tmp_path: Path) -> None:
    path = tmp_path / "metrics.json"
    write_atomic(path, '{"test/acc": 0.9}\n')
    with pytest.raises(UnicodeEncodeError):
        write_atomic(path, '{"test/acc": "\udc80"}')  # fails while writing
    assert path.read_text() == '{"test/acc": 0.9}\n'
    assert _leftovers(tmp_path) == []


def test_the_trainer_saves_and_loads_through_trainrigs_checkpoint_io(
    compose_train: object, tmp_path: Path
) -> None:
    cfg = compose_train("trainer=smoke")  # type: ignore[operator]
    assert isinstance(cfg, DictConfig)
    trainer = build_trainer(cfg, tmp_path, callbacks=[])
    assert isinstance(trainer.strategy.checkpoint_io, SafeCheckpointIO)


def test_a_run_killed_while_training_has_no_metrics_and_whole_checkpoints(
    tmp_path: Path,
) -> None:
    """kill -9 at a few moments of training: never a metrics.json, never a broken checkpoint."""
    for attempt in range(2):
        run_dir = tmp_path / f"run{attempt}"
        process = subprocess.Popen(
            [sys.executable, "-m", "trainrig", "train", "trainer=smoke", "trainer.max_epochs=500",
             "trainer.limit_train_batches=5", "early_stopping=none", f"hydra.run.dir={run_dir}"],
            cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env={**os.environ, "PYTHONPATH": str(REPO_ROOT / "src")},
        )  # fmt: skip
        last = run_dir / "checkpoints" / "last.ckpt"
        deadline = time.monotonic() + 120
        while not last.exists() and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.05)
        time.sleep(0.3 * attempt)  # a later moment: checkpoints are being rewritten each epoch
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        assert last.exists(), "training never wrote a checkpoint"
        assert not (run_dir / "metrics.json").exists()
        for name in ("last.ckpt", "best.ckpt"):
            checkpoint = torch.load(run_dir / "checkpoints" / name, weights_only=True)
            assert "state_dict" in checkpoint
