"""Channel pruning benchmarks (`python benchmarks/channel_pruning.py`): pruned against unpruned.

- `channel_pruning_cnn`: the default digits CNN, `compression=prune_channels` (50% of each layer
  group's channels, 3 epochs of fine-tuning), mean of seeds 1-3 of real `trainrig train` runs:
  CPU latency at batch 1 after / before (goal <= 0.6), with MACs and size on disk (plain
  `torch.save`) <= 0.35x and test accuracy within 1 point as the second condition.
- `channel_pruning_resnet`: trainrig's ResNet on CIFAR-shaped synthetic input (3x32x32, no
  training: pruning by L2 magnitude), CPU latency at batch 1 after / before (goal <= 0.6), MACs
  and size <= 0.35x as the second condition.
"""

from __future__ import annotations

import copy
import io
import statistics
import sys
from pathlib import Path

import torch
from compression import reports
from result import Result

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from trainrig.compression.channel_pruning import ChannelPruning
from trainrig.compression.measure import cpu_latency_ms, macs_per_sample
from trainrig.models.resnet import build_resnet


def _ratio(runs: list[dict[str, float]], key: str) -> float:
    return statistics.mean(r["after"][key] / r["before"][key] for r in runs)  # type: ignore[index]


def measure_cnn() -> Result:
    runs = reports("compression=prune_channels")
    lost = statistics.mean(100 * (r["before"]["test/acc"] - r["after"]["test/acc"]) for r in runs)
    macs, size = _ratio(runs, "macs_per_sample"), _ratio(runs, "dense_bytes")  # type: ignore[arg-type]
    return Result(
        "channel_pruning_cnn",
        value=statistics.mean(r["after"]["cpu_latency_ms_batch1"] for r in runs),
        baseline=statistics.mean(r["before"]["cpu_latency_ms_batch1"] for r in runs),
        goal=0.6,
        unit="ms",
        detail=f"3 seeds, batch 1, {runs[0]['cpu_threads']} threads; MACs {macs:.3f}x, size "
        f"{size:.3f}x, test/acc lost {lost:+.2f} pt, latency per test batch "
        f"{_ratio(runs, 'cpu_latency_ms_per_batch'):.3f}x",  # type: ignore[arg-type]
        also_met=macs <= 0.35 and size <= 0.35 and lost <= 1.0,
    )


def _saved_bytes(model: torch.nn.Module) -> int:
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    return len(buffer.getvalue())


def measure_resnet() -> Result:
    shape = (3, 32, 32)
    model = build_resnet(shape, 10).eval()
    pruned = copy.deepcopy(model)
    ChannelPruning().prune(pruned, torch.zeros(2, *shape), 0.5)
    example = torch.randn(1, *shape)
    before = [cpu_latency_ms(model, example, repeats=50) for _ in range(3)]
    after = [cpu_latency_ms(pruned, example, repeats=50) for _ in range(3)]
    macs = (macs_per_sample(pruned, example) or 0) / (macs_per_sample(model, example) or 1)
    size = _saved_bytes(pruned) / _saved_bytes(model)
    return Result(
        "channel_pruning_resnet",
        value=statistics.median(after),
        baseline=statistics.median(before),
        goal=0.6,
        unit="ms",
        detail=f"3x32x32 synthetic, batch 1, {torch.get_num_threads()} threads; MACs "
        f"{macs:.3f}x, size {size:.3f}x",
        also_met=macs <= 0.35 and size <= 0.35,
    )


if __name__ == "__main__":
    for measure in (measure_resnet, measure_cnn):
        print(measure().to_json(), flush=True)
