"""`compression=prune_channels`: channels really removed, the narrower model rebuilt from its
checkpoint, evaluated and exported as it is, and what Torch-Pruning cannot prune refused."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from torch import nn

from trainrig.compression.channel_pruning import ChannelPruning, history
from trainrig.compression.measure import macs_per_sample
from trainrig.compression.pruned_checkpoint import plan, replay
from trainrig.config.errors import ConfigError
from trainrig.models.cnn import build_cnn
from trainrig.models.mlp import build_mlp
from trainrig.models.resnet import build_resnet
from trainrig.models.resnet_block import BasicBlock

from .conftest import CliRunner

pytest.importorskip("torch_pruning")

SHAPE = (1, 8, 8)  # digits
BUILT_IN: dict[str, Callable[[], nn.Module]] = {
    "cnn": lambda: build_cnn(SHAPE, 10, channels=(8, 16)),
    "mlp": lambda: build_mlp(SHAPE, 10),
    "resnet": lambda: build_resnet(SHAPE, 10, width=8, stages=2, blocks_per_stage=1),
}


def _pruned(model: nn.Module, **settings: object) -> nn.Module:
    ChannelPruning(**settings).prune(model, torch.zeros(2, *SHAPE), 0.5)  # type: ignore[arg-type]
    return model


@pytest.mark.parametrize("name", sorted(BUILT_IN))
def test_half_the_channels_go_the_outputs_keep_their_shape_and_the_plan_rebuilds_it(
    name: str,
) -> None:
    model = BUILT_IN[name]().eval()
    original = copy.deepcopy(model)
    example = torch.randn(4, *SHAPE)
    pruned = _pruned(model)
    assert pruned(example).shape == (4, 10)
    widths = {n: m.weight.shape for n, m in original.named_modules() if hasattr(m, "weight")}
    narrower = [n for n, m in pruned.named_modules() if hasattr(m, "weight")
                if m.weight.shape[0] < widths[n][0]]  # fmt: skip
    assert narrower  # whole output channels removed, not zeroed in place
    assert sum(p.numel() for p in pruned.parameters()) < 0.5 * sum(
        p.numel() for p in original.parameters()
    )
    before, after = macs_per_sample(original, example), macs_per_sample(pruned, example)
    assert before is not None and after is not None and after < 0.5 * before
    rebuilt = BUILT_IN[name]().eval()  # as `trainrig eval` does: built, narrowed, loaded
    replay(rebuilt, plan(history(pruned), SHAPE))
    rebuilt.load_state_dict(pruned.state_dict())
    assert torch.equal(rebuilt(example), pruned(example))


def test_the_residual_additions_stay_consistent() -> None:
    model = _pruned(BUILT_IN["resnet"]().eval(), scope="global")
    blocks = [m for m in model.modules() if isinstance(m, BasicBlock)]
    assert blocks
    for block in blocks:
        body_out = block.body[3].out_channels  # the conv whose output is added
        shortcut = block.shortcut
        added = shortcut[0].out_channels if isinstance(shortcut, nn.Sequential) else None
        assert added is None or added == body_out
        assert block.body[4].num_features == body_out
    stem = model[0].out_channels
    assert blocks[0].body[0].in_channels == stem  # the identity shortcut's width is the stem's
    assert blocks[0].body[3].out_channels == stem
    assert model(torch.randn(2, *SHAPE)).shape == (2, 10)


class FixedView(nn.Module):
    """Flattens with a width written into the code: narrower channels break it."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 16, 3, padding=1)
        self.head = nn.Linear(16 * 8 * 8, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.conv(x).view(-1, 16 * 8 * 8))  # type: ignore[no-any-return]


def test_a_model_it_cannot_prune_consistently_is_refused_with_the_way_out() -> None:
    with pytest.raises(ConfigError, match=r"cannot prune this model's channels.*prune_structured"):
        ChannelPruning().check(FixedView(), torch.zeros(2, *SHAPE))


def test_bn_scale_without_batch_norm_and_a_model_with_only_a_head_are_refused() -> None:
    with pytest.raises(ConfigError, match=r"criterion=bn_scale.*no batch norm"):
        without = build_cnn(SHAPE, 10, batch_norm=False)
        ChannelPruning(criterion="bn_scale").check(without, torch.zeros(2, *SHAPE))
    head_only = nn.Sequential(nn.Flatten(), nn.Linear(64, 10))
    with pytest.raises(ConfigError, match="no channels to remove"):
        ChannelPruning().check(head_only, torch.zeros(2, *SHAPE))


@pytest.fixture(scope="module")
def pruned_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One digits CNN trained briefly, its channels pruned by half, exported to ONNX."""
    from .conftest import run_trainrig

    cwd = tmp_path_factory.mktemp("pruned")
    result = run_trainrig(
        "train", "trainer=smoke", "compression=prune_channels", "compression.finetune_epochs=1",
        "compression.export=onnx", "model.channels=[16,32]", cwd=cwd,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (run,) = (cwd / "outputs" / "train" / "runs").iterdir()
    return run


def test_the_pruned_run_is_smaller_faster_to_compute_and_exports_the_same_outputs(
    pruned_run: Path,
) -> None:
    report = json.loads((pruned_run / "compression.json").read_text())
    before, after = report["before"], report["after"]
    assert after["parameters"] < 0.5 * before["parameters"]
    assert after["sparsity"] == 0  # narrower layers, no zeros
    assert after["dense_bytes"] < 0.5 * before["dense_bytes"]
    assert after["macs_per_sample"] < 0.5 * before["macs_per_sample"]
    for side in (before, after):
        assert side["cpu_latency_ms_batch1"] > 0 and side["cpu_latency_ms_per_batch"] > 0
    assert report["cpu_threads"] >= 1
    assert report["onnx"]["max_abs_diff"] <= 1e-4  # onnxruntime's outputs are torch's
    for side in (before, after):  # both sides exported and timed in onnxruntime too
        assert side["onnxruntime_latency_ms_batch1"] > 0
        assert side["onnxruntime_latency_ms_per_batch"] > 0
    metrics = json.loads((pruned_run / "metrics.json").read_text())
    for name in ("onnxruntime_latency_ms_batch1", "onnxruntime_latency_ms_per_batch"):
        assert metrics[f"compression/{name}"] == after[name]
    assert metrics["compression/macs_per_sample"] == after["macs_per_sample"]
    assert metrics["compression/parameters"] == after["parameters"]
    state = torch.load(pruned_run / "checkpoints" / "pruned.ckpt", weights_only=True)
    assert state["state_dict"]["model.0.weight"].shape[0] == 8  # 16 channels, half removed


def test_eval_of_the_pruned_checkpoint_gives_the_reports_test_accuracy(
    pruned_run: Path, trainrig_cli: CliRunner, tmp_path: Path
) -> None:
    result = trainrig_cli(
        "eval", f"ckpt_path={pruned_run / 'checkpoints' / 'pruned.ckpt'}", "trainer=smoke",
        "trainer.limit_test_batches=1.0", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (run,) = (tmp_path / "outputs" / "eval" / "runs").iterdir()
    tested = json.loads((run / "metrics.json").read_text())["test/acc"]
    report = json.loads((pruned_run / "compression.json").read_text())
    assert tested == pytest.approx(report["after"]["test/acc"], abs=1e-6)


def test_compress_prunes_a_checkpoint_distils_from_it_and_quantizes_the_result(
    pruned_run: Path, trainrig_cli: CliRunner, tmp_path: Path
) -> None:
    result = trainrig_cli(
        "compress", f"ckpt_path={pruned_run / 'checkpoints' / 'best.ckpt'}",
        "compression=prune_channels", "compression.finetune_epochs=1", "compression.distill=true",
        "compression.quantize=dynamic", "trainer=smoke", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (run,) = (tmp_path / "outputs" / "compress" / "runs").iterdir()
    report = json.loads((run / "compression.json").read_text())
    before, after = report["before"], report["after"]
    state = torch.load(run / "checkpoints" / "compressed.pt", weights_only=False)
    assert any("_packed_params" in key for key in state)  # the int8 head
    assert after["dense_bytes"] < 0.5 * before["dense_bytes"]
    # an int8 model does the MACs of the pruned float model it came from
    assert 0 < after["macs_per_sample"] < 0.5 * before["macs_per_sample"]
    pruned = torch.load(run / "checkpoints" / "pruned.ckpt", weights_only=True)
    assert pruned["state_dict"]["model.0.weight"].shape[0] == 8


def test_quantize_with_onnx_export_and_distill_without_fine_tuning_are_refused(
    trainrig_cli: CliRunner, tmp_path: Path
) -> None:
    result = trainrig_cli(
        "train", "compression=prune_channels", "compression.quantize=dynamic",
        "compression.export=onnx", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode != 0
    assert "choose one of compression.quantize and compression.export" in result.stderr
    assert "Traceback" not in result.stderr
    result = trainrig_cli(
        "train", "trainer=smoke", "compression=prune_channels", "compression.distill=true",
        "compression.finetune_epochs=0", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode != 0
    assert "set compression.finetune_epochs>=1" in result.stderr
    assert not list(tmp_path.rglob("*.ckpt"))  # refused before training
