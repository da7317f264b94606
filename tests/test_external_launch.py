"""Which launcher started a rank, as Lightning sees it, and the run name all its ranks agree on."""

from __future__ import annotations

from datetime import timedelta

import pytest
from lightning_fabric.plugins.environments import SLURMEnvironment, TorchElasticEnvironment

from trainrig.config.errors import ConfigError
from trainrig.distributed.external_launch import ExternalLaunch, external_launch, shared_run_name

TORCHRUN = {"TORCHELASTIC_RUN_ID": "abc", "RANK": "1", "LOCAL_RANK": "1", "WORLD_SIZE": "2"}
SLURM = {
    "SLURM_NTASKS": "2",
    "SLURM_NTASKS_PER_NODE": "2",
    "SLURM_PROCID": "1",
    "SLURM_LOCALID": "1",
    "SLURM_NODEID": "0",
    "SLURM_JOB_ID": "4242",
    "SLURM_STEP_ID": "3",
    "SLURM_JOB_NAME": "train",
}

DETECTED = [
    ({}, None),
    (TORCHRUN, ExternalLaunch("torchrun", 1)),
    (SLURM, ExternalLaunch("slurm", 1)),
    ({**SLURM, **TORCHRUN}, ExternalLaunch("slurm", 1)),  # Lightning asks SLURM first
    ({**SLURM, "SLURM_JOB_NAME": "interactive"}, None),  # started by hand in an allocation
    ({**SLURM, "SLURM_JOB_NAME": "bash", **TORCHRUN}, ExternalLaunch("torchrun", 1)),
    ({"SLURM_JOB_ID": "4242", "SLURM_PROCID": "0"}, None),  # sbatch without srun
]


@pytest.mark.parametrize(("env", "expected"), DETECTED)
def test_the_launcher_is_the_one_lightning_detects(
    env: dict[str, str], expected: ExternalLaunch | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert external_launch(env) == expected
    for name in ("PATH", *SLURM, *TORCHRUN):  # Lightning reads os.environ (and `srun` on PATH)
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    lightning = "slurm" if SLURMEnvironment.detect() else None
    lightning = lightning or ("torchrun" if TorchElasticEnvironment.detect() else None)
    assert (None if expected is None else expected.kind) == lightning


@pytest.mark.parametrize(
    ("env", "name"),
    [
        ({}, "proposed"),
        (SLURM, "slurm-4242.3"),
        ({**SLURM, "SLURM_STEP_ID": "0"}, "slurm-4242.0"),
        ({k: v for k, v in SLURM.items() if k != "SLURM_STEP_ID"}, "slurm-4242"),
        ({k: v for k, v in SLURM.items() if k != "SLURM_JOB_ID"}, "proposed"),
        ({**TORCHRUN, "TORCHELASTIC_USE_AGENT_STORE": "False"}, "torchrun-abc"),
    ],
)
def test_the_shared_name_comes_from_the_launch(env: dict[str, str], name: str) -> None:
    assert shared_run_name("proposed", env) == name


def test_a_slurm_job_start_time_leads_the_name_so_runs_sort_by_time() -> None:
    name = shared_run_name("proposed", {**SLURM, "SLURM_JOB_START_TIME": "1700000000"})
    assert name.endswith("_slurm-4242.3") and name.startswith("2023-11-")


def test_torchrun_ranks_take_the_first_proposal_from_the_agents_store() -> None:
    from torch.distributed import TCPStore

    agent = TCPStore("127.0.0.1", 0, is_master=True, timeout=timedelta(seconds=10))
    env = {
        **TORCHRUN,
        "TORCHELASTIC_USE_AGENT_STORE": "True",
        "MASTER_ADDR": "127.0.0.1",
        "MASTER_PORT": str(agent.port),
    }
    first = shared_run_name("2024-01-01_00-00-00_aaaaaaaa", env)
    second = shared_run_name("2024-01-01_00-00-01_bbbbbbbb", {**env, "RANK": "0"})
    assert first == second == "2024-01-01_00-00-00_aaaaaaaa"


def test_torchrun_without_run_id_or_store_names_the_way_out() -> None:
    env = {**TORCHRUN, "TORCHELASTIC_RUN_ID": "none"}
    with pytest.raises(ConfigError, match=r"--rdzv-id=.*hydra\.run\.dir="):
        shared_run_name("proposed", env)
