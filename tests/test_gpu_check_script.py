"""scripts/gpu-check (every GPU test in one command) parses, and refuses where there is no GPU."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "gpu-check"


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU: the script runs")
def test_gpu_check_parses_and_refuses_in_one_line_without_a_gpu(tmp_path: Path) -> None:
    subprocess.run(["bash", "-n", str(SCRIPT)], check=True)
    env = {"PATH": "/usr/bin:/bin", "PYTHON": sys.executable, "OUT": str(tmp_path)}
    done = subprocess.run([str(SCRIPT)], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == (
        "gpu-check: no CUDA GPU here (torch.cuda.is_available() is false); run it on a machine "
        "with one\n"
    )
    assert not any(tmp_path.iterdir())  # no figures written
