"""Channel pruning benchmarks (`python benchmarks/channel_pruning.py`): pruned against unpruned.

- `channel_pruning_cnn`: the default digits CNN, `compression=prune_channels` (50% of each layer
  group's channels, 3 epochs of fine-tuning), mean of seeds 1-3 of real `trainrig train` runs:
  CPU latency at batch 1 after / before (goal <= 0.6), with MACs and size on disk (plain
  `torch.save`) <= 0.35x and test accuracy within 1 point as the second condition.
- `channel_pruning_resnet`: trainrig's ResNet on CIFAR-shaped synthetic input (3x32x32, no
  training: pruning by L2 magnitude), CPU latency at batch 1 after / before (goal <= 0.6), MACs
  and size <= 0.35x as the second condition.
- `channel_pruning_cnn_onnxruntime`, `channel_pruning_resnet_onnxruntime`: the same models
  exported to ONNX (`compression.export=onnx`) and timed in onnxruntime, the runtime a compressed
  model is deployed with. At batch 1 an 8x8 digit through eager PyTorch is mostly per-layer
  dispatch, which fewer channels do not remove; onnxruntime's per-layer cost is a few
  microseconds, so its latency follows the work the pruning removed.
"""

from __future__ import annotations

import copy
import io
import statistics
import sys
import tempfile
from pathlib import Path

import torch
from compression import reports
from result import Result

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from trainrig.compression.channel_pruning import ChannelPruning
from trainrig.compression.measure import cpu_latency_ms, macs_per_sample
from trainrig.compression.onnx_files import export_onnx, onnxruntime_latency_ms
from trainrig.models.resnet import build_resnet


def _ratio(runs: list[dict[str, float]], key: str) -> float:
    return statistics.mean(r["after"][key] / r["before"][key] for r in runs)  # type: ignore[index]


def measure_cnn() -> list[Result]:
    runs = reports("compression=prune_channels", "compression.export=onnx")
    lost = statistics.mean(100 * (r["before"]["test/acc"] - r["after"]["test/acc"]) for r in runs)
    macs, size = _ratio(runs, "macs_per_sample"), _ratio(runs, "dense_bytes")  # type: ignore[arg-type]
    met = macs <= 0.35 and size <= 0.35 and lost <= 1.0

    def latency(benchmark: str, prefix: str) -> Result:
        per_batch = _ratio(runs, f"{prefix}_per_batch")  # type: ignore[arg-type]
        return Result(
            benchmark,
            value=statistics.mean(r["after"][f"{prefix}_batch1"] for r in runs),
            baseline=statistics.mean(r["before"][f"{prefix}_batch1"] for r in runs),
            goal=0.6,
            unit="ms",
            detail=f"3 seeds, batch 1, {runs[0]['cpu_threads']} threads; MACs {macs:.3f}x, "
            f"size {size:.3f}x, test/acc lost {lost:+.2f} pt, latency per test batch "
            f"{per_batch:.3f}x",
            also_met=met,
        )

    return [
        latency("channel_pruning_cnn", "cpu_latency_ms"),
        latency("channel_pruning_cnn_onnxruntime", "onnxruntime_latency_ms"),
    ]


def _saved_bytes(model: torch.nn.Module) -> int:
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    return len(buffer.getvalue())


def _onnxruntime_ms(model: torch.nn.Module, example: torch.Tensor) -> list[float]:
    """3 medians of 50 onnxruntime runs of `example` through `model`'s ONNX export."""
    with tempfile.TemporaryDirectory() as folder:
        path = export_onnx(model, example, Path(folder) / "model.onnx")
        return [onnxruntime_latency_ms(path, example) for _ in range(3)]


def measure_resnet() -> list[Result]:
    shape = (3, 32, 32)
    model = build_resnet(shape, 10).eval()
    pruned = copy.deepcopy(model)
    ChannelPruning().prune(pruned, torch.zeros(2, *shape), 0.5)
    example = torch.randn(1, *shape)
    macs = (macs_per_sample(pruned, example) or 0) / (macs_per_sample(model, example) or 1)
    size = _saved_bytes(pruned) / _saved_bytes(model)
    sides = {
        "channel_pruning_resnet": lambda m: [cpu_latency_ms(m, example, 50) for _ in range(3)],
        "channel_pruning_resnet_onnxruntime": lambda m: _onnxruntime_ms(m, example),
    }
    return [
        Result(
            benchmark,
            value=statistics.median(timed(pruned)),
            baseline=statistics.median(timed(model)),
            goal=0.6,
            unit="ms",
            detail=f"3x32x32 synthetic, batch 1, {torch.get_num_threads()} threads; MACs "
            f"{macs:.3f}x, size {size:.3f}x",
            also_met=macs <= 0.35 and size <= 0.35,
        )
        for benchmark, timed in sides.items()
    ]


if __name__ == "__main__":
    for measure in (measure_resnet, measure_cnn):
        for result in measure():
            print(result.to_json(), flush=True)
