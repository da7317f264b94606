"""How DDP's other ranks start in a Hydra job (the strategies themselves: strategies.py).

Lightning's DDP launcher starts ranks 1..N-1 by running `sys.argv` again with
`hydra.run.dir=<HydraConfig run.dir>` appended. For trainrig that command must be this job alone:
`trainrig train <this job's overrides> hydra.mode=RUN`, in this job's directory, also when the job
is one of a multirun or a sweep trial (else each rank would start the whole sweep again). Every
rank then composes the same config, so a sweep trial's hyperparameters reach all of them. After
the job, the process is left as it was, ready for the next job.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from hydra.core.hydra_config import HydraConfig
from omegaconf import read_write


@contextmanager
def ddp_ranks_rerun_this_job(command: str) -> Iterator[None]:
    """While active, Lightning's DDP launcher starts other ranks as this one Hydra job."""
    hydra = HydraConfig.get()
    run: Any = hydra.run  # a read-only DictConfig at run time
    argv, run_dir, environment = sys.argv, run.dir, dict(os.environ)
    sys.argv = [argv[0], command, *hydra.overrides.task, "hydra.mode=RUN"]
    with read_write(run):
        run.dir = hydra.runtime.output_dir
    try:
        yield
    finally:
        sys.argv = argv
        with read_write(run):
            run.dir = run_dir
        _end_process_group(environment)


def _end_process_group(environment: dict[str, str]) -> None:
    """Leave no DDP state for the next job of this process (the next trial of a sweep).

    Lightning's launcher sets LOCAL_RANK, WORLD_SIZE, MASTER_PORT, ... in os.environ; left there,
    the next job would think its ranks were started outside and wait for them forever.
    """
    os.environ.clear()
    os.environ.update(environment)
    import torch.distributed

    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()
