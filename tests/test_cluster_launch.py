"""Ranks started outside trainrig, as real processes on CPU over gloo: one run directory per launch.

torchrun runs for real, on one and on two "nodes" (two agents on this machine). Slurm cannot run
here, so the SLURM test starts the two ranks as `srun` would, with the environment contract
Lightning's SLURMEnvironment reads (SLURM_NTASKS, SLURM_PROCID, ...): it tests that contract, not
a Slurm cluster. Multiruns through hydra-submitit-launcher use its local executor.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir

from trainrig.config.resolvers import register_resolvers
from trainrig.config.tree import BUILTIN_CONF_DIR

from .conftest import CliRunner

TRAIN = ["train", "strategy=ddp", "trainer=smoke", "trainer.accelerator=cpu"]
LAUNCH_VARIABLES = ("SLURM_", "TORCHELASTIC_", "MASTER_", "RANK", "LOCAL_RANK", "WORLD_SIZE")


def _clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without launcher variables (the test may run under one)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(LAUNCH_VARIABLES)}
    env.pop("HYDRA_FULL_ERROR", None)
    return {**env, "PYTHONUNBUFFERED": "1", **extra}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _start(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        args, cwd=cwd, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )


def _finish(processes: list[subprocess.Popen[str]]) -> list[str]:
    """Wait for every process; fail with its output if one did not exit 0."""
    outputs = []
    for process in processes:
        output, _ = process.communicate(timeout=240)
        assert process.returncode == 0, output[-4000:]
        outputs.append(output)
    return outputs


def _the_one_run(cwd: Path, ranks: int) -> Path:
    """The single run directory of the launch, after checking each rank logged into it."""
    (run,) = (cwd / "outputs" / "train" / "runs").iterdir()
    assert json.loads((run / "metrics.json").read_text())["test/acc"] >= 0.0
    logs = [run / "train.log", *(run / f"train_rank_{r}.log" for r in range(1, ranks))]
    for rank, log in enumerate(logs):  # every rank joined the one process group
        assert f"GLOBAL_RANK: {rank}, MEMBER: {rank + 1}/{ranks}" in log.read_text()
    assert (run / ".hydra" / "config.yaml").is_file()  # written by rank 0 only
    return run


def _torchrun(*args: str) -> list[str]:
    return [sys.executable, "-m", "torch.distributed.run", *args, "-m", "trainrig"]


@pytest.mark.slow
def test_torchrun_on_one_node_makes_one_run_directory(tmp_path: Path) -> None:
    command = _torchrun("--standalone", "--nproc_per_node=2")
    (output,) = _finish([_start([*command, *TRAIN, "trainer.devices=2"], tmp_path, _clean_env())])
    _the_one_run(tmp_path, ranks=2)
    assert output.count("Final metrics") == 1  # only rank 0 reports


def test_a_config_every_torchrun_rank_rejects_leaves_no_run_directory(tmp_path: Path) -> None:
    command = [*_torchrun("--standalone", "--nproc_per_node=2"), *TRAIN, "trainer.devices=2"]
    rejected = _start([*command, "optimizer.lr=-1"], tmp_path, _clean_env())
    output, _ = rejected.communicate(timeout=120)
    assert rejected.returncode != 0
    # each rank checks the config; torchrun stops the other rank as soon as the first one
    # exits with the error, so the second message may not get printed
    assert output.count("trainrig: error: optimizer.lr: must be > 0") in (1, 2)
    assert not (tmp_path / "outputs").exists()  # nor rank 1's log kept it


def test_torchrun_with_more_processes_than_trainer_devices_is_refused(tmp_path: Path) -> None:
    command = [*_torchrun("--standalone", "--nproc_per_node=2"), *TRAIN, "trainer.devices=1"]
    rejected = _start(command, tmp_path, _clean_env())
    output, _ = rejected.communicate(timeout=120)
    assert rejected.returncode != 0
    expected = "2 processes were started (WORLD_SIZE) but trainer.devices x trainer.num_nodes"
    # each rank names the way out, before training; torchrun may stop the second one first
    assert output.count(expected) in (1, 2)
    assert not (tmp_path / "outputs").exists()


@pytest.mark.slow
def test_torchrun_on_two_nodes_makes_one_run_directory(tmp_path: Path) -> None:
    # no --rdzv-id: torchrun's run id is then "none", and the agent's store settles the name
    rendezvous = ["--nnodes=2", "--nproc_per_node=1", "--rdzv_backend=c10d"]
    rendezvous.append(f"--rdzv_endpoint=127.0.0.1:{_free_port()}")
    overrides = [*TRAIN, "trainer.devices=1", "trainer.num_nodes=2"]
    nodes = [
        _start([*_torchrun(*rendezvous, f"--node_rank={node}"), *overrides], tmp_path, _clean_env())
        for node in range(2)
    ]
    _finish(nodes)
    _the_one_run(tmp_path, ranks=2)


@pytest.mark.slow
def test_ranks_started_as_srun_would_make_one_run_directory(tmp_path: Path) -> None:
    """The SLURM environment contract (no Slurm here): two tasks on two nodes of job 4242."""
    job = {
        "SLURM_JOB_ID": "4242",
        "SLURM_STEP_ID": "0",
        "SLURM_JOB_NAME": "trainrig",
        "SLURM_NTASKS": "2",
        "SLURM_NTASKS_PER_NODE": "1",
        "SLURM_NNODES": "2",
        "SLURM_NODELIST": "127.0.0.1",
        "SLURM_LOCALID": "0",
        "MASTER_PORT": str(_free_port()),  # Slurm's default, 15000 + job id % 10000, may be taken
    }
    command = [sys.executable, "-m", "trainrig", *TRAIN, "trainer.devices=1", "trainer.num_nodes=2"]
    tasks = [
        _start(command, tmp_path, _clean_env(**job, SLURM_PROCID=str(r), SLURM_NODEID=str(r)))
        for r in range(2)
    ]
    _finish(tasks)
    assert _the_one_run(tmp_path, ranks=2).name == "slurm-4242.0"


@pytest.mark.slow
def test_a_multirun_through_submitit_runs_each_job(trainrig_cli: CliRunner, tmp_path: Path) -> None:
    pytest.importorskip("hydra_plugins.hydra_submitit_launcher")
    result = trainrig_cli(
        "train", "-m", "hydra/launcher=submitit_local", "trainer=smoke", "model=cnn,mlp",
        "hydra.sweep.dir=sweep", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-4000:]
    for job in ("0", "1"):
        assert json.loads((tmp_path / "sweep" / job / "metrics.json").read_text())["test/acc"] >= 0
    configs = [(tmp_path / "sweep" / job / "config.yaml").read_text() for job in ("0", "1")]
    assert "build_cnn" in configs[0] and "build_mlp" in configs[1]


def test_the_slurm_launcher_preset_sizes_jobs_from_the_trainer(in_repo: Path) -> None:
    """`hydra/launcher=slurm` is found among the built-in options and extends submitit_slurm."""
    pytest.importorskip("hydra_plugins.hydra_submitit_launcher")
    register_resolvers()
    overrides = ["hydra/launcher=slurm", "trainer.devices=4", "trainer.num_nodes=2"]
    with initialize_config_dir(config_dir=str(BUILTIN_CONF_DIR), version_base="1.3"):
        cfg = compose(config_name="train", overrides=overrides, return_hydra_config=True)
    launcher = cfg.hydra.launcher
    assert launcher._target_.endswith("submitit_launcher.SlurmLauncher")
    assert (launcher.nodes, launcher.tasks_per_node, launcher.gpus_per_node) == (2, 4, 4)
    assert launcher.partition is None and launcher.timeout_min == 60
