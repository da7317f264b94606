"""`compression=prune_iterative`: pruning on a schedule during real training runs on digits."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import torch

from trainrig.compression.iterative_pruning import IterativePruning

from .conftest import CliRunner

# Steps at the end of epochs 0, 1 and 2; epochs 3 and 4 train at the final sparsity.
SCHEDULE = [
    "trainer=smoke", "trainer.max_epochs=5", "compression=prune_iterative",
    "compression.start_epoch=0", "compression.every_n_epochs=1", "compression.steps=3",
]  # fmt: skip


def _run(trainrig_cli: CliRunner, cwd: Path, *overrides: str) -> Path:
    result = trainrig_cli("train", *SCHEDULE, *overrides, cwd=cwd)
    assert result.returncode == 0, result.stderr
    (run,) = (cwd / "outputs" / "train" / "runs").iterdir()
    return run


def _layer_weights(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The conv and linear weights of a state dict (no masks: pruning was made permanent)."""
    assert not any(key.endswith(("_orig", "_mask")) for key in state)
    return {k: v for k, v in state.items() if k.endswith("weight") and v.dim() >= 2}


def _zeros(weights: dict[str, torch.Tensor]) -> int:
    return sum(int((w == 0).sum()) for w in weights.values())


def test_the_schedule_ramps_cubically_to_the_requested_amount() -> None:
    schedule = IterativePruning(amount=0.8, start_epoch=2, every_n_epochs=2, steps=4).schedule()
    assert list(schedule) == [2, 4, 6, 8]
    assert list(schedule.values()) == pytest.approx(
        [0.8 * (1 - (1 - k / 4) ** 3) for k in (1, 2, 3, 4)]
    )
    assert schedule[8] == pytest.approx(0.8)


def test_global_pruning_during_training_reaches_the_amount_and_best_holds_it(
    trainrig_cli: CliRunner, tmp_path: Path
) -> None:
    # Early stopping that would stop at once (no epoch gains 0.5 in val/acc) and restores the
    # best weights: training still goes past the last step, and "best" is a fully pruned epoch.
    run = _run(
        trainrig_cli, tmp_path, "compression.amount=0.7", "early_stopping.patience=1",
        "early_stopping.min_delta=0.5",
    )  # fmt: skip
    best = torch.load(run / "checkpoints" / "best.ckpt", weights_only=True)["state_dict"]
    compressed = torch.load(run / "checkpoints" / "compressed.pt", weights_only=True)
    for state in (best, compressed):
        weights = _layer_weights(state)
        total = sum(w.numel() for w in weights.values())
        assert abs(_zeros(weights) - round(0.7 * total)) <= len(weights)
    with (run / "csv" / "metrics.csv").open() as f:
        epochs = {row["epoch"] for row in csv.DictReader(f) if row.get("val/acc")}
    assert {"3", "4"} & epochs  # at least one epoch after the last step, at epoch 2
    report = json.loads((run / "compression.json").read_text())
    dense = torch.load(run / "checkpoints" / "before_pruning.pt", weights_only=True)
    assert (
        _zeros(_layer_weights(dense)) == 0
    )  # the report's "before": the weights when pruning began
    assert report["before"]["nonzero_parameters"] == report["before"]["parameters"]
    assert report["after"]["nonzero_parameters"] < 0.4 * report["after"]["parameters"]
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["compression/nonzero_parameters"] == report["after"]["nonzero_parameters"]
    assert metrics["compression/test_acc"] == report["after"]["test/acc"]


def test_per_layer_pruning_during_training_reaches_the_amount_in_every_layer(
    trainrig_cli: CliRunner, tmp_path: Path
) -> None:
    run = _run(trainrig_cli, tmp_path, "compression.method=l1", "compression.amount=0.5")
    compressed = torch.load(run / "checkpoints" / "compressed.pt", weights_only=True)
    for name, weight in _layer_weights(compressed).items():
        assert abs(int((weight == 0).sum()) - round(0.5 * weight.numel())) <= 1, name
    assert (run / "metrics.json").is_file()
