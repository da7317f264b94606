"""A signal during an epoch's last training batch: the epoch ends (validation, checkpoints) before
the run stops, so the resumed run logs every epoch once and ends as an uninterrupted run
(issue 25, point 5)."""

from __future__ import annotations

import json
import signal
from pathlib import Path

from .test_stopped_runs import RUN, _start, _trained_epochs, _validated_epochs

# Sends SIGTERM to its own process once, in the last training batch of epoch 1 (not on resume).
SENDER = """
import os
import signal

from pytorch_lightning.callbacks import Callback


class TermInLastBatch(Callback):
    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        last = batch_idx + 1 == trainer.num_training_batches
        if trainer.ckpt_path is None and trainer.current_epoch == 1 and last:
            os.kill(os.getpid(), signal.SIGTERM)
"""


def test_sigterm_in_an_epochs_last_batch_keeps_its_validation_and_resumes_as_uninterrupted(
    tmp_path: Path,
) -> None:
    (tmp_path / "sender.py").write_text(SENDER)
    settings = [*RUN, "trainer.max_epochs=3"]
    run_dir = tmp_path / "run"
    stopped = _start(
        tmp_path, "train", *settings, "+callbacks.term._target_=sender.TermInLastBatch",
        "hydra.run.dir=run",
    )  # fmt: skip
    _, stderr = stopped.communicate(timeout=180)
    assert stopped.returncode == 128 + signal.SIGTERM, stderr
    # stopped as epoch 2 began: epoch 1 validated and logged, its checkpoints saved
    assert stderr.strip().splitlines()[-1].startswith("interrupted by SIGTERM at epoch 2, step 12")
    assert _validated_epochs(run_dir) == [0, 1]
    resumed = _start(tmp_path, "resume", str(run_dir))
    _, stderr = resumed.communicate(timeout=180)
    assert resumed.returncode == 0, stderr
    plain = _start(tmp_path, "train", *settings, "hydra.run.dir=plain")
    _, stderr = plain.communicate(timeout=180)
    assert plain.returncode == 0, stderr

    assert _validated_epochs(run_dir) == [0, 1, 2]
    assert _trained_epochs(run_dir) == [0, 1, 2]
    metrics = json.loads((run_dir / "metrics.json").read_text())  # the same best epoch, tested
    assert metrics == json.loads((tmp_path / "plain" / "metrics.json").read_text())
