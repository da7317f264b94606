"""An asynchronous pool of `n_workers` trial processes sharing one study.

Each worker is the same `trainrig` command, started again with the sweep directory fixed and
TRAINRIG_SWEEP_WORKER set: it joins the study and runs trials in its own process until the study
holds n_trials, taking the next trial the moment it is free (no batch barrier). This is how a
second machine joins a shared study, too. Workers split the CPU threads, or own
`gpus_per_trial` CUDA devices each, and die with the sweep process.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import IO, Any

from omegaconf import DictConfig

from trainrig.errors import ConfigError

WORKER_ENV = "TRAINRIG_SWEEP_WORKER"


def worker_command(config: DictConfig, sweep_dir: Path) -> list[str]:
    """The command line that started this sweep, as a worker of the same sweep directory."""
    from trainrig.cli import HYDRA_COMMANDS

    command = {name: cmd for cmd, name in HYDRA_COMMANDS.items()}[config.hydra.job.config_name]
    overrides = [*config.hydra.overrides.hydra, *config.hydra.overrides.task]
    kept = [o for o in overrides if not o.startswith("hydra.sweep.dir=")]
    return [sys.executable, "-m", "trainrig", command, "-m", *kept, f"hydra.sweep.dir={sweep_dir}"]


def assign_devices(visible: list[str], n_workers: int, per_worker: int) -> list[str | None]:
    """CUDA_VISIBLE_DEVICES for each worker: `per_worker` devices of its own, or None (CPU)."""
    if per_worker <= 0:
        return [None] * n_workers
    needed = n_workers * per_worker
    if needed > len(visible):
        raise ConfigError(
            f"hydra.sweeper.n_workers={n_workers} with gpus_per_trial={per_worker} needs "
            f"{needed} GPUs, but {len(visible)} are visible; lower n_workers or gpus_per_trial"
        )
    return [",".join(visible[i * per_worker : (i + 1) * per_worker]) for i in range(n_workers)]


def visible_gpus() -> list[str]:
    """The CUDA devices this process may use, as CUDA_VISIBLE_DEVICES names them."""
    named = os.environ.get("CUDA_VISIBLE_DEVICES")
    if named is not None:
        return [d for d in named.split(",") if d.strip()]
    import torch

    return [str(i) for i in range(torch.cuda.device_count())]


def _die_with_parent() -> None:
    """Linux: the worker gets SIGKILL when the sweep process dies, even by kill -9."""
    if sys.platform == "linux":
        import ctypes

        ctypes.CDLL("libc.so.6").prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def start_worker(
    command: list[str], index: int, threads: int, devices: str | None, log_file: IO[Any]
) -> subprocess.Popen[bytes]:
    """Start worker `index` with its share of threads or its devices; output to `log_file`."""
    env = {**os.environ, WORKER_ENV: str(index)}
    env["OMP_NUM_THREADS"] = env["MKL_NUM_THREADS"] = str(threads)
    if devices is not None:
        env["CUDA_VISIBLE_DEVICES"] = devices
    return subprocess.Popen(
        command,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        preexec_fn=_die_with_parent,  # only sets the parent-death signal
    )


def threads_per_worker(n_workers: int) -> int:
    """This machine's CPU cores shared out between the workers, at least one each."""
    return max(1, len(os.sched_getaffinity(0)) // n_workers)
