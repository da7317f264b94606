"""Shared fixtures: run the real CLI in a subprocess, compose configs with Hydra's compose API."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

from trainrig.config.resolvers import register_resolvers
from trainrig.config.tree import BUILTIN_CONF_DIR

from .postgres_server import postgres_url  # noqa: F401  (a fixture: a real PostgreSQL server)

REPO_ROOT = Path(__file__).resolve().parent.parent

CliRunner = Callable[..., subprocess.CompletedProcess[str]]


def run_trainrig(
    *args: str, cwd: Path = REPO_ROOT, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run `python -m trainrig ARGS...` in `cwd` and capture its output."""
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    full_env.pop("HYDRA_FULL_ERROR", None)
    if env and "HYDRA_FULL_ERROR" in env:
        full_env["HYDRA_FULL_ERROR"] = env["HYDRA_FULL_ERROR"]
    return subprocess.run(
        [sys.executable, "-m", "trainrig", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(autouse=True)
def torch_determinism_restored() -> Iterator[None]:
    """Each test ends with torch's global deterministic-algorithms switch as it found it: an
    in-process run with `trainer.deterministic=true` turns it on for the whole process, and
    some kernels (int8 resize) refuse to run under it."""
    torch = sys.modules.get("torch")  # not imported here: some tests check what is imported
    before = (False, False)
    if torch is not None:
        before = (
            torch.are_deterministic_algorithms_enabled(),
            torch.is_deterministic_algorithms_warn_only_enabled(),
        )
    yield
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.use_deterministic_algorithms(before[0], warn_only=before[1])


@pytest.fixture
def trainrig_cli() -> CliRunner:
    """The `trainrig` command, run as a real subprocess."""
    return run_trainrig


@pytest.fixture
def in_repo(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Work from the repository root, where ./experiments lives."""
    monkeypatch.chdir(REPO_ROOT)
    return REPO_ROOT


@pytest.fixture
def compose_train(in_repo: Path) -> Iterator[Callable[..., DictConfig]]:
    """Compose the `train` config (as `trainrig train` would) with the given overrides."""
    register_resolvers()

    def _compose(*overrides: str, config_name: str = "train") -> DictConfig:
        with initialize_config_dir(config_dir=str(BUILTIN_CONF_DIR), version_base="1.3"):
            return compose(config_name=config_name, overrides=list(overrides))

    yield _compose


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip tests marked `gpu` where torch sees no CUDA device."""
    import torch

    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU; this machine has none")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)
