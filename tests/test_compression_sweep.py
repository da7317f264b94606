"""The compressed model's figures as sweep objectives: a real multi-objective pruning sweep."""

from __future__ import annotations

import json
from pathlib import Path

import optuna
import pytest

from .conftest import CliRunner

# preset -> its figure of size or cost, minimized against compression/test_acc
PRESETS = {
    "digits_pruning_vs_accuracy": "compression/nonzero_parameters",
    "digits_channels_vs_latency": "compression/macs_per_sample",
}


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_a_sweep_trades_pruned_accuracy_against_size(
    trainrig_cli: CliRunner, tmp_path: Path, preset: str
) -> None:
    result = trainrig_cli(
        "train", f"sweep={preset}", "trainer=smoke", "hydra.sweeper.n_trials=3",
        "hydra.sweep.dir=sweep", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    summary = json.loads((tmp_path / "sweep" / "summary.json").read_text())
    assert summary["trials"] == {"COMPLETE": 3}
    study = optuna.load_study(study_name="trainrig", storage=f"sqlite:///{tmp_path}/sweep/study.db")
    by_number = {t.number: t for t in study.trials}
    front = summary["pareto_front"]
    assert front
    for point in front:  # each value is what the trial's run wrote, and no trial dominates it
        trial = by_number[point["number"]]
        metrics = json.loads((tmp_path / "sweep" / str(trial.number) / "metrics.json").read_text())
        expected = [metrics["compression/test_acc"], metrics[PRESETS[preset]]]
        assert point["values"] == expected == trial.values
        acc, nonzero = expected
        assert not any(
            (t.values[0] >= acc and t.values[1] <= nonzero)
            and (t.values[0] > acc or t.values[1] < nonzero)
            for t in study.trials
        )
    assert "Pareto front" in result.stderr
