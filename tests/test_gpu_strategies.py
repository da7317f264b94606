"""Strategies that need CUDA GPUs: run where torch sees one (skipped elsewhere, see conftest)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
import torch

from .conftest import CliRunner

pytestmark = [pytest.mark.gpu, pytest.mark.slow]


def _gpus() -> list[str]:
    """Up to two GPUs: sharding across two shows it, and one still runs the whole path."""
    count = min(2, torch.cuda.device_count())
    return ["trainer=smoke", "trainer.accelerator=gpu", f"trainer.devices={count}"]


def _train(trainrig_cli: CliRunner, tmp_path: Path, *args: str) -> dict[str, float]:
    result = trainrig_cli("train", *_gpus(), *args, "hydra.run.dir=run", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    metrics: dict[str, float] = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert 0.0 <= metrics["test/acc"] <= 1.0
    return metrics


@pytest.mark.parametrize(
    "options",
    [
        ["strategy=fsdp"],
        ["strategy=fsdp", "strategy.sharding_strategy=SHARD_GRAD_OP"],
        ["strategy=fsdp", "strategy.activation_checkpointing=true", "strategy.cpu_offload=true"],
    ],
    ids=["full-shard", "shard-grad-op", "checkpointing-and-offload"],
)
def test_fsdp_trains_and_tests_on_gpus(
    options: list[str], trainrig_cli: CliRunner, tmp_path: Path
) -> None:
    _train(trainrig_cli, tmp_path, *options)


def test_ddp_with_sync_batchnorm_trains_on_gpus(trainrig_cli: CliRunner, tmp_path: Path) -> None:
    _train(trainrig_cli, tmp_path, "strategy=ddp", "trainer.sync_batchnorm=true")


@pytest.mark.skipif(importlib.util.find_spec("deepspeed") is None, reason="trainrig[deepspeed]")
@pytest.mark.parametrize("stage", [1, 2, 3])
def test_deepspeed_zero_trains_on_gpus(stage: int, trainrig_cli: CliRunner, tmp_path: Path) -> None:
    _train(trainrig_cli, tmp_path, "strategy=deepspeed", f"strategy.stage={stage}")


def test_model_parallel_splits_the_mlp_across_gpus(trainrig_cli: CliRunner, tmp_path: Path) -> None:
    metrics = _train(
        trainrig_cli, tmp_path, "strategy=model_parallel", "model=mlp", "model.batch_norm=false"
    )
    assert metrics["model/parameters"] == 64 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10
