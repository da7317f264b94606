"""`trainrig lr-find`: the range test prints a suggestion and writes the plot and the curve."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib.image

from .conftest import CliRunner


def test_lr_find_writes_plot_and_curve(trainrig_cli: CliRunner, tmp_path: Path) -> None:
    result = trainrig_cli("lr-find", "trainer=smoke", "lr_find.num_training=30", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    # its temporary checkpoint is read weights-only, and no line says otherwise
    assert "weights_only" not in result.stdout + result.stderr
    (run_dir,) = (tmp_path / "outputs" / "lr_find" / "runs").iterdir()
    found = json.loads((run_dir / "lr_find.json").read_text())
    assert len(found["lr"]) == len(found["loss"]) > 10
    assert found["lr"] == sorted(found["lr"])
    assert found["lr"][0] >= 1e-6 and found["lr"][-1] <= 1.0
    suggestion = found["suggested_lr"]
    if suggestion is None:
        assert "No learning rate suggested" in result.stdout
    else:
        assert 1e-6 <= suggestion <= 1.0
        assert f"optimizer.lr={suggestion:.3g}" in result.stdout
    assert (run_dir / "lr_find.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert matplotlib.image.imread(run_dir / "lr_find.png").shape[:2] == (480, 640)


def test_lr_find_rejects_an_empty_range(trainrig_cli: CliRunner, tmp_path: Path) -> None:
    result = trainrig_cli("lr-find", "lr_find.min_lr=2", cwd=tmp_path)
    assert result.returncode == 2
    assert "lr_find.min_lr must be below lr_find.max_lr" in result.stderr
