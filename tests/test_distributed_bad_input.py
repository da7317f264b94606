"""Distributed settings this machine cannot run are refused before anything runs, through the
real CLI: exit status 2, one line naming the way out, no traceback, no run directory."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch

from .conftest import CliRunner
from .test_bad_input import _assert_clean_rejection

CPU_DDP = ["strategy=ddp", "trainer.accelerator=cpu", "trainer.devices=2"]
NO_GPU = pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
CASES = [
    pytest.param(
        ["strategy=fsdp"], "strategy=fsdp runs on CUDA GPUs only and this machine has none: "
        "use strategy=ddp", marks=NO_GPU, id="fsdp-without-gpus",
    ),
    pytest.param(
        ["trainer.accelerator=gpu"], "trainer.accelerator=gpu but this machine has no CUDA GPU: "
        "use trainer.accelerator=cpu", marks=NO_GPU, id="gpu-accelerator-without-gpus",
    ),
    pytest.param(
        ["strategy=ddp", "trainer.accelerator=cpu", "trainer.devices=4096"],
        "trainer.devices=4096 asks for 4096 devices but this machine has", id="more-devices",
    ),
    pytest.param(
        ["strategy=model_parallel", "trainer.accelerator=cpu", "trainer.devices=2"],
        "strategy=model_parallel: the model trainrig.models.cnn.build_cnn has no tensor-parallel "
        "sharding plan (only an MLP without batch norm has one): use model=mlp "
        "model.batch_norm=false", id="model-parallel-cnn",
    ),
    pytest.param(
        ["strategy=model_parallel", "model=mlp", "trainer.accelerator=cpu", "trainer.devices=2"],
        "has no tensor-parallel sharding plan", id="model-parallel-mlp-with-batch-norm",
    ),
    pytest.param(
        [*CPU_DDP, "trainer.sync_batchnorm=true"],
        "trainer.sync_batchnorm=true: torch's SyncBatchNorm runs on CUDA GPUs only",
        marks=NO_GPU, id="sync-batchnorm-on-cpus",
    ),
    pytest.param(
        ["lr_scaling=linear", "batch_size_scope=global"],
        "set lr_scaling=none, or batch_size_scope=per_device", id="lr-scaling-of-a-global-batch",
    ),
    pytest.param(
        [*CPU_DDP, "batch_size_scope=global", "data.batch_size=1"],
        "data.batch_size=1 is the global batch (batch_size_scope=global) but 2 processes split "
        "it: set data.batch_size >= 2", id="global-batch-below-processes",
    ),
    pytest.param(
        ["batch_size_scope=everything"], "batch_size_scope: 'everything' is not allowed; choose "
        "one of per_device, global", id="unknown-batch-size-scope",
    ),
    pytest.param(
        ["strategy=deepspeed", "strategy.stage=4"], "strategy.stage: 4 is not allowed; choose "
        "one of 1, 2, 3", id="deepspeed-stage",
    ),
    pytest.param(
        ["strategy=fsdp", "strategy.sharding_strategy=HALF"], "strategy.sharding_strategy: "
        "'HALF' is not allowed; choose one of FULL_SHARD", id="fsdp-sharding-strategy",
    ),
]  # fmt: skip
if importlib.util.find_spec("deepspeed") is None:
    CASES.append(
        pytest.param(
            ["strategy=deepspeed"],
            "strategy=deepspeed needs the deepspeed package, which is "
            "not installed: pip install 'trainrig[deepspeed]'",
            id="deepspeed-not-installed",
        )
    )


@pytest.mark.parametrize(("args", "expected"), CASES)
def test_a_distributed_setting_this_machine_cannot_run_is_refused(
    args: list[str], expected: str, trainrig_cli: CliRunner, tmp_path: Path
) -> None:
    result = trainrig_cli("train", *args, cwd=tmp_path)
    _assert_clean_rejection(result, expected, tmp_path)
