"""strategy=pipeline on CPU over gloo: 2 stages train as 1 process, one ordinary checkpoint."""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from .conftest import CliRunner

# The same work for 1 process and 2 stages: no randomness or batch statistics that micro-batches
# would change (batch norm normalizes each micro-batch; GPipe's paper has the same caveat).
# Early stopping is the default one, restore_best included: its best weights are the whole model's.
# Batches of 400: an epoch of digits' 1,257 training samples is 3 of them and one of 57 (3 micro-
# batches of 19), and validation and test batches are smaller: every batch size the pipeline
# meets gets its own stage buffers and as many equal micro-batches as divide it. SGD (momentum,
# its state carried over on resume): a step is proportional to the gradient, so the weights show
# a wrongly scaled one, where Adam's normalized steps would hide it and amplify float noise.
SAME_WORK = [
    "trainer=smoke", "trainer.accelerator=cpu", "augmentation=none", "model.dropout=0",
    "model.batch_norm=false", "trainer.limit_train_batches=4", "data.batch_size=400",
    "optimizer=sgd",
]  # fmt: skip
PIPELINE = ["strategy=pipeline", "trainer.devices=2", "strategy.micro_batches=4"]
ONE_F_ONE_B = ["strategy.schedule=1f1b"]
STAGE_LINE = re.compile(r"pipeline stage (\d) of 2: layers ([\d,]+), (\d+) parameters")


def _column(run: Path, key: str) -> list[float]:
    with (run / "csv" / "metrics.csv").open() as file:
        return [float(row[key]) for row in csv.DictReader(file) if row.get(key)]


def _weights(checkpoint: Path) -> dict[str, torch.Tensor]:
    return torch.load(checkpoint, weights_only=True)["state_dict"]  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with `one` (1 process) and `two` (2 pipeline stages) trained the same way."""
    from .conftest import run_trainrig

    cwd = tmp_path_factory.mktemp("pipeline")
    one = run_trainrig("train", *SAME_WORK, "hydra.run.dir=one", cwd=cwd)
    two = run_trainrig("train", *SAME_WORK, *PIPELINE, "hydra.run.dir=two", cwd=cwd)
    assert one.returncode == 0, one.stderr
    assert two.returncode == 0, two.stderr
    return cwd


@pytest.mark.slow
def test_two_pipeline_stages_train_as_one_process_and_eval_reads_their_checkpoint(
    trainrig_cli: CliRunner, runs: Path, tmp_path: Path
) -> None:
    tmp_path = runs  # the shared runs' folder
    # each process held only its stage's layers, and the stages add up to the whole model
    logs = (tmp_path / "two" / "train.log").read_text() + (
        tmp_path / "two" / "train_ddp_process_1.log"
    ).read_text()
    stages = {int(m[1]): (m[2].split(","), int(m[3])) for m in STAGE_LINE.finditer(logs)}
    assert sorted(stages) == [0, 1]
    metrics_one = json.loads((tmp_path / "one" / "metrics.json").read_text())
    assert stages[0][1] > 0 and stages[1][1] > 0
    assert stages[0][1] + stages[1][1] == metrics_one["model/parameters"]
    assert not set(stages[0][0]) & set(stages[1][0])
    # the same loss curve: 4 micro-batches of 100 (or 3 of 19) average to the gradient of the
    # batch (tolerance: float summation order over 8 steps)
    assert _column(tmp_path / "two", "train/loss") == pytest.approx(
        _column(tmp_path / "one", "train/loss"), rel=5e-5
    )
    # one ordinary checkpoint with every stage's weights, as 1 process wrote it
    last = Path("checkpoints", "last.ckpt")
    alone, together = _weights(tmp_path / "one" / last), _weights(tmp_path / "two" / last)
    assert together.keys() == alone.keys()
    for name in alone:
        torch.testing.assert_close(together[name], alone[name], atol=1e-4, rtol=1e-4)
    metrics_two = json.loads((tmp_path / "two" / "metrics.json").read_text())
    assert metrics_two == pytest.approx(metrics_one, rel=5e-5, abs=1e-6)
    # `trainrig eval` of that checkpoint, on one process, gives the run's test/acc
    best = tmp_path / "two" / "checkpoints" / "best.ckpt"
    evaluated = trainrig_cli(
        "eval", f"ckpt_path={best}", "trainer.accelerator=cpu", "trainer.limit_test_batches=2",
        "hydra.run.dir=eval", cwd=tmp_path,
    )  # fmt: skip
    assert evaluated.returncode == 0, evaluated.stderr
    tested = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert tested["test/acc"] == pytest.approx(metrics_two["test/acc"], abs=1e-6)
    # early stopping's best weights (restore_best) are every stage's, as the checkpoint's are
    best_weights = _early_stopping_state(tmp_path / "two" / last)["best_weights"]
    assert best_weights.keys() == together.keys()


def _early_stopping_state(checkpoint: Path) -> dict[str, object]:
    callbacks = torch.load(checkpoint, weights_only=True)["callbacks"]
    (state,) = [s for name, s in callbacks.items() if name.startswith("EarlyStopping")]
    return state  # type: ignore[no-any-return]


@pytest.mark.slow
def test_a_pipeline_run_killed_mid_training_resumes_to_the_uninterrupted_runs_weights(
    trainrig_cli: CliRunner, runs: Path, tmp_path: Path
) -> None:
    """kill -9 of the launcher and its stage processes once last.ckpt exists, then resume=auto:
    the optimizer state (gathered from the stages, cut back into them) and early stopping's whole
    best weights carry on, so the run ends as the uninterrupted one did. This run takes the 1F1B
    schedule, the uninterrupted one GPipe's: the same micro-batches' gradients, summed in the
    same order, so the same weights."""
    command = [sys.executable, "-m", "trainrig", "train", *SAME_WORK, *PIPELINE, *ONE_F_ONE_B]
    run, last = tmp_path / "run", Path("checkpoints", "last.ckpt")
    process = subprocess.Popen(
        [*command, "hydra.run.dir=run"], cwd=tmp_path, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 240
    while not (run / last).is_file():
        assert process.poll() is None, f"the run ended unkilled: {process.communicate()[1]}"
        assert time.monotonic() < deadline, "the run never saved a checkpoint"
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGKILL)  # the launcher and every stage process at once
    process.wait()
    assert not (run / "metrics.json").exists()  # killed before it finished
    assert torch.load(run / last, weights_only=True)["global_step"] == 4  # epoch 1 of 2

    resumed = trainrig_cli(
        "train", *SAME_WORK, *PIPELINE, *ONE_F_ONE_B, "hydra.run.dir=run", "resume=auto",
        cwd=tmp_path,
    )  # fmt: skip

    assert resumed.returncode == 0, resumed.stderr
    expected, got = _weights(runs / "two" / last), _weights(run / last)
    assert got.keys() == expected.keys()
    for name in expected:  # the same arithmetic in the same order: the same weights
        torch.testing.assert_close(got[name], expected[name], atol=1e-6, rtol=1e-6)
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics == pytest.approx(json.loads((runs / "two" / "metrics.json").read_text()))
    state = _early_stopping_state(run / last)
    assert state["best_epoch"] == _early_stopping_state(runs / "two" / last)["best_epoch"]


def test_a_model_that_cannot_be_cut_is_refused_before_training(
    trainrig_cli: CliRunner, tmp_path: Path
) -> None:
    result = trainrig_cli(
        "train", "trainer=smoke", "trainer.accelerator=cpu", *PIPELINE,
        "strategy.split_at=[nope]", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 2
    assert "strategy.split_at: the model" in result.stderr
    assert "has no top-level layer 'nope'; its layers are 0, 1, 2" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "outputs" / "train" / "runs").exists() or not any(
        (tmp_path / "outputs" / "train" / "runs").rglob("*.ckpt")
    )
