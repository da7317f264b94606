"""A hydra-optuna-sweeper user's config meets trainrig's sweeper: the old plugin's `_target_` and
the deprecated `search_space` key run with a one-line note each, and a failed trial within
`max_failure_rate` is one log line (its traceback goes to the trial's log file)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

OLD_TARGET = "hydra_plugins.hydra_optuna_sweeper.optuna_sweeper.OptunaSweeper"
APP_ROOT = Path(__file__).resolve().parent / "v1_3_5"


def test_an_old_plugin_config_runs_with_deprecation_notes_and_one_line_per_failure(
    tmp_path: Path,
) -> None:
    result = subprocess.run(
        [
            sys.executable, "example/sphere.py", "--multirun", "--config-dir=tests/conf",
            "--config-name=test_deprecated_search_space", f"hydra.sweep.dir={tmp_path}",
            f"hydra.sweeper._target_={OLD_TARGET}", "hydra.sweeper.n_trials=2",
            "hydra.sweeper.max_failure_rate=1.0", "+error=true", "hydra.job.chdir=False",
        ],
        cwd=APP_ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert output.count(f"hydra.sweeper._target_: {OLD_TARGET[:-14]}") == 1
    assert output.count("hydra.sweeper.search_space is deprecated") == 1
    assert output.count("failed: RuntimeError: cfg.error is True") == 2
    assert "Traceback" not in output
    assert "raise RuntimeError" in (tmp_path / "0" / "sphere.log").read_text()
    assert not (tmp_path / "optimization_results.yaml").exists()  # no trial completed
