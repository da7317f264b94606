"""strategy=pipeline beyond the default CNN: the built-in MLP and ResNet and a project's own
`nn.Sequential` builder train as 2 stages over gloo, and `trainrig eval` of the checkpoint on
one process gives the run's test/acc."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from .conftest import CliRunner

TINY_SEQUENTIAL = """
import math

from torch import nn


def tiny_sequential(input_shape, num_classes):
    \"\"\"The project's own model: a plain nn.Sequential.\"\"\"
    return nn.Sequential(
        nn.Flatten(), nn.Linear(math.prod(input_shape), 12), nn.ReLU(), nn.Linear(12, num_classes)
    )
"""
# The smallest of each model: a few seconds a run. The built-in MLP is the project's own shape
# (Flatten, Linear, ReLU, Linear) built by trainrig: its cuts are in test_pipeline_split.py and
# it trains as 2 stages in benchmarks/pipeline.py; the CNN in test_pipeline.py.
MODELS = {
    "resnet": ["model=resnet", "model.width=4", "model.stages=1", "model.blocks_per_stage=1"],
    "own-sequential": [
        "~model", "+model._target_=mymodels.tiny_sequential", "+model._partial_=true"
    ],
}  # fmt: skip
PIPELINE = ["strategy=pipeline", "trainer.devices=2", "strategy.micro_batches=2"]
STAGE_LINE = re.compile(r"pipeline stage (\d) of 2: layers ([\d,]+), (\d+) parameters")


@pytest.mark.slow
@pytest.mark.parametrize("model", list(MODELS))
def test_two_pipeline_stages_of_each_model_kind_write_a_checkpoint_eval_reads(
    model: str, trainrig_cli: CliRunner, tmp_path: Path
) -> None:
    """Each model is cut into 2 stages holding disjoint layers whose parameters add up to the
    model's, and the checkpoint, gathered on rank 0, evaluates on one process to the run's
    test/acc. The ResNet keeps its batch norm: each micro-batch is normalized on its own
    during training, so its training does not match one process's (test_pipeline.py shows
    that for models without it); evaluation uses the running statistics, so eval still does."""
    (tmp_path / "mymodels.py").write_text(TINY_SEQUENTIAL)
    trained = trainrig_cli(
        "train", "trainer=smoke", *MODELS[model], *PIPELINE, "hydra.run.dir=run", cwd=tmp_path
    )
    assert trained.returncode == 0, trained.stderr
    run = tmp_path / "run"
    logs = (run / "train.log").read_text() + (run / "train_ddp_process_1.log").read_text()
    stages = {int(m[1]): (set(m[2].split(",")), int(m[3])) for m in STAGE_LINE.finditer(logs)}
    assert sorted(stages) == [0, 1]
    assert not stages[0][0] & stages[1][0]
    metrics = json.loads((run / "metrics.json").read_text())
    assert stages[0][1] + stages[1][1] == metrics["model/parameters"]
    if model == "own-sequential":  # the project's model, not a built-in one
        assert metrics["model/parameters"] == 64 * 12 + 12 + 12 * 10 + 10

    evaluated = trainrig_cli(
        "eval", f"ckpt_path={run / 'checkpoints' / 'best.ckpt'}", "trainer.accelerator=cpu",
        "trainer.limit_test_batches=2", "hydra.run.dir=eval", cwd=tmp_path,
    )  # fmt: skip
    assert evaluated.returncode == 0, evaluated.stderr
    tested = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert tested["test/acc"] == pytest.approx(metrics["test/acc"], abs=1e-6)
