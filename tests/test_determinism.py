"""`seed=N trainer.deterministic=true` repeats a run exactly on the CPU."""

from __future__ import annotations

from pathlib import Path

from .conftest import CliRunner


def test_two_seeded_deterministic_runs_write_identical_metrics(
    trainrig_cli: CliRunner, tmp_path: Path
) -> None:
    written = []
    for name in ("first", "second"):
        result = trainrig_cli(
            "train", "seed=7", "trainer.deterministic=true", "trainer=smoke",
            "trainer.max_epochs=3", f"hydra.run.dir={name}", cwd=tmp_path,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        written.append((tmp_path / name / "metrics.json").read_bytes())
    assert written[0] == written[1]
    assert b"test/acc" in written[0]
