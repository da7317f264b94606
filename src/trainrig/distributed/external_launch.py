"""Ranks started outside trainrig (torchrun, SLURM's srun) agree on one run directory.

Each such rank runs `trainrig train ...` itself and so composes its own config: `${now:}` and
`${trainrig.uid:}` alone would name a different directory per rank. Which launcher started the
process is read as Lightning's cluster environments read it, in Lightning's order (its
`_choose_and_init_cluster_environment`): `SLURMEnvironment` when `SLURM_NTASKS` is set and the job
is not named `bash` or `interactive`, then `TorchElasticEnvironment` when `TORCHELASTIC_RUN_ID`
is set. trainrig's own DDP (`strategy=ddp` without a launcher) passes `hydra.run.dir` to the ranks
it starts, so none of this applies there.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from trainrig.config.errors import ConfigError

# Job names with which Lightning ignores SLURM, so that processes can be started by hand in an
# allocation (`srun --job-name=interactive --pty bash`).
SLURM_INTERACTIVE_JOB_NAMES = ("bash", "interactive")
# The key under which torchrun's ranks settle the run name in the elastic agent's store.
STORE_KEY = "trainrig/run_name"
STORE_TIMEOUT = timedelta(seconds=60)


@dataclass(frozen=True)
class ExternalLaunch:
    """The launcher that started this process and this process's global rank in it."""

    kind: Literal["slurm", "torchrun"]
    rank: int


def external_launch(env: Mapping[str, str] = os.environ) -> ExternalLaunch | None:
    """The launcher Lightning will see for this process, or None when trainrig starts the ranks."""
    if "SLURM_NTASKS" in env and env.get("SLURM_JOB_NAME") not in SLURM_INTERACTIVE_JOB_NAMES:
        return ExternalLaunch("slurm", int(env.get("SLURM_PROCID", "0")))
    if "TORCHELASTIC_RUN_ID" in env:
        return ExternalLaunch("torchrun", int(env.get("RANK", "0")))
    return None


def launched_rank(env: Mapping[str, str] = os.environ) -> int:
    """The global rank the external launcher gave this process; 0 without one."""
    launch = external_launch(env)
    return 0 if launch is None else launch.rank


def shared_run_name(proposed: str, env: Mapping[str, str] = os.environ) -> str:
    """`proposed` outside a launcher; under one, a name every rank of the launch resolves alike.

    SLURM: `slurm-<job>.<step>` (prefixed by the job's start time where Slurm exports it), so a
    requeued job finds its directory again (`resume=auto`). torchrun: the first rank's proposal,
    settled through the store the elastic agent serves to all ranks.
    """
    launch = external_launch(env)
    if launch is None:
        return proposed
    if launch.kind == "slurm":
        return _slurm_run_name(env, proposed)
    return _torchrun_run_name(env, proposed)


def _slurm_run_name(env: Mapping[str, str], proposed: str) -> str:
    job = env.get("SLURM_JOB_ID")
    if job is None:  # not a real allocation (SLURM_NTASKS set by hand): nothing shared to use
        return proposed
    step = env.get("SLURM_STEP_ID")
    name = f"slurm-{job}" if step is None else f"slurm-{job}.{step}"
    start = env.get("SLURM_JOB_START_TIME", "")
    if start.isdigit():
        name = time.strftime("%Y-%m-%d_%H-%M-%S_", time.localtime(int(start))) + name
    return name


def _torchrun_run_name(env: Mapping[str, str], proposed: str) -> str:
    address, port = env.get("MASTER_ADDR"), env.get("MASTER_PORT")
    if env.get("TORCHELASTIC_USE_AGENT_STORE") == "True" and address and port:
        # public, but torch's stubs re-export it without `as`
        from torch.distributed import TCPStore  # type: ignore[attr-defined]

        try:
            store = TCPStore(address, int(port), is_master=False, timeout=STORE_TIMEOUT)
            return store.compare_set(STORE_KEY, "", proposed).decode()
        except (RuntimeError, ValueError) as error:
            raise ConfigError(
                f"torchrun's store at {address}:{port} did not answer ({error}), so the ranks "
                "cannot agree on a run directory; pass hydra.run.dir=DIR (the same on every node)"
            ) from error
    run_id = env["TORCHELASTIC_RUN_ID"]
    if run_id == "none":  # torchrun's default for several nodes
        raise ConfigError(
            "torchrun gave no run id (TORCHELASTIC_RUN_ID=none) and no store, so the ranks cannot "
            "agree on a run directory; pass --rdzv-id=<unique id> to torchrun, or "
            "hydra.run.dir=DIR (the same on every node)"
        )
    return f"torchrun-{run_id}"
