"""Compression benchmarks on digits, each the mean over 3 seeds of real `trainrig train` runs.

- `compression_pruning`: test accuracy lost (points) by 80% global magnitude pruning plus 3
  epochs of fine-tuning of the default CNN (`compression=prune_global`), against a 1-point
  reference: goal <= 1 point.
- `compression_distillation`: test error of an MLP student (1/38 of the teacher's parameters)
  distilled from the default CNN (`compression=distill`) against the same student from scratch;
  passes when the distilled student is more accurate.
- `compression_quantization`: size on disk of the MLP after dynamic int8 quantization
  (`compression=quantize_dynamic`) against the float MLP: goal <= 0.3x, and at most 1 point of
  test accuracy lost (else the benchmark fails).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from result import Result

SEEDS = "1,2,3"


def reports(*overrides: str) -> list[dict[str, Any]]:
    """The compression.json of each seed's run of `trainrig train -m seed=1,2,3 OVERRIDES`."""
    with tempfile.TemporaryDirectory() as work:
        command = [
            *(sys.executable, "-m", "trainrig", "train", "-m", f"seed={SEEDS}"),
            *(*overrides, "hydra.sweep.dir=sweep"),
        ]
        done = subprocess.run(command, cwd=work, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
        return [
            json.loads(p.read_text()) for p in sorted(Path(work).glob("sweep/*/compression.json"))
        ]


def _lost_points(runs: list[dict[str, Any]]) -> float:
    return statistics.mean(100 * (r["before"]["test/acc"] - r["after"]["test/acc"]) for r in runs)


def measure_pruning() -> Result:
    runs = reports("compression=prune_global")
    sparsity = statistics.mean(r["after"]["sparsity"] for r in runs)
    before = statistics.mean(r["before"]["test/acc"] for r in runs)
    after = statistics.mean(r["after"]["test/acc"] for r in runs)
    return Result(
        "compression_pruning",
        value=_lost_points(runs),
        baseline=1.0,
        goal=1.0,
        unit="pt",
        detail=f"3 seeds; sparsity {sparsity:.3f} of all parameters; test/acc {before:.4f} -> "
        f"{after:.4f}; compressed size {_ratio(runs, 'compressed_bytes'):.2f}x",
    )


def _ratio(runs: list[dict[str, Any]], key: str) -> float:
    return statistics.mean(r["after"][key] / r["before"][key] for r in runs)


def measure_quantization() -> Result:
    runs = reports("model=mlp", "compression=quantize_dynamic")
    lost = _lost_points(runs)
    return Result(
        "compression_quantization",
        value=statistics.mean(r["after"]["dense_bytes"] for r in runs),
        baseline=statistics.mean(r["before"]["dense_bytes"] for r in runs),
        goal=0.3,
        unit="B",
        detail=f"3 seeds, MLP; test/acc lost {lost:+.2f} pt; latency "
        f"{_ratio(runs, 'cpu_latency_ms_per_batch'):.2f}x",
        also_met=lost <= 1.0,
    )


STUDENT = ["model=mlp", "model.hidden_sizes=[32]"]  # 2,474 parameters; the CNN teacher has 94,186


def _test_accuracies(work: Path, name: str, *overrides: str) -> list[float]:
    command = [
        *(sys.executable, "-m", "trainrig", "train", "-m", f"seed={SEEDS}"),
        *(*overrides, f"hydra.sweep.dir={name}"),
    ]
    done = subprocess.run(command, cwd=work, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    found = sorted(work.glob(f"{name}/*/metrics.json"))
    return [json.loads(path.read_text())["test/acc"] for path in found]


def measure_distillation() -> Result:
    """Test error of a distilled 1/38-size student against the same student from scratch."""
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        teacher = [sys.executable, "-m", "trainrig", "train", "hydra.run.dir=teacher"]
        subprocess.run(teacher, cwd=work, capture_output=True, check=True)
        ckpt = work / "teacher" / "checkpoints" / "best.ckpt"
        scratch = statistics.mean(_test_accuracies(work, "scratch", *STUDENT))
        distill = ["compression=distill", f"compression.teacher_ckpt={ckpt}"]
        distilled = statistics.mean(_test_accuracies(work, "distilled", *STUDENT, *distill))
    return Result(
        "compression_distillation",
        value=1 - distilled,
        baseline=1 - scratch,
        goal=1.0,
        unit="error",
        detail=f"MLP [32] (1/38 of the CNN teacher), 3 seeds: test/acc {distilled:.4f} distilled "
        f"vs {scratch:.4f} from scratch",
        also_met=distilled > scratch,
    )
