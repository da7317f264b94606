"""An asynchronous pool of `n_workers` trial processes sharing one study.

Each worker is a fork of the sweep process (Lightning already imported, Hydra's launcher ready)
that opens the study anew and runs trials until the study holds n_trials, taking the next trial
the moment it is free (no batch barrier). Workers split the CPU threads, or own `gpus_per_trial`
CUDA devices each (the sweep process never initializes CUDA, so forking is safe), write their
output to `workers/worker_N.log` and die with the sweep process. Other machines join a shared
study by running the same command with the same `storage`.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import shutil
import signal
import subprocess
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from trainrig.config.errors import ConfigError


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
    """The GPUs this process may use, found without initializing CUDA (workers fork after)."""
    named = os.environ.get("CUDA_VISIBLE_DEVICES")
    if named is not None:
        return [d for d in named.split(",") if d.strip()]
    if shutil.which("nvidia-smi") is None:
        return []
    listing = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True).stdout
    return [str(i) for i, line in enumerate(listing.splitlines()) if line.startswith("GPU ")]


def threads_per_worker(n_workers: int) -> int:
    """This machine's CPU cores shared out between the workers, at least one each."""
    return max(1, len(os.sched_getaffinity(0)) // n_workers)


def _die_with_parent() -> None:
    """Linux: the worker gets SIGKILL when the sweep process dies, even by kill -9."""
    if sys.platform == "linux":
        import ctypes

        ctypes.CDLL("libc.so.6").prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _worker_main(run: Callable[[], None], threads: int, devices: str | None, log: Path) -> None:
    """In the forked worker: its threads or devices, its log file, then `run`; never returns."""
    _die_with_parent()
    code = 0
    try:
        sys.stdout.flush()
        sys.stderr.flush()
        out = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(out, 1)
        os.dup2(out, 2)
        os.environ["OMP_NUM_THREADS"] = os.environ["MKL_NUM_THREADS"] = str(threads)
        if devices is not None:
            os.environ["CUDA_VISIBLE_DEVICES"] = devices
        import torch

        torch.set_num_threads(threads)
        run()
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else 1
    except BaseException:
        traceback.print_exc()
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)  # skip the sweep process's exit handlers


def start_worker(run: Callable[[], None], threads: int, devices: str | None, log: Path) -> Any:
    """Fork a worker process that calls `run` with its share of threads or its devices."""
    context = multiprocessing.get_context("fork")
    process = context.Process(target=_worker_main, args=(run, threads, devices, log))
    process.start()
    return process


def wait_for_exit(processes: list[Any], timeout: float) -> None:
    """Return when one of `processes` has exited, or after `timeout` seconds."""
    multiprocessing.connection.wait([p.sentinel for p in processes], timeout)
