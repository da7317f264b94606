"""TrialConfigLoader gives every sweep job exactly the config Hydra's full compose gives it."""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from hydra import initialize_config_dir
from hydra.core.config_loader import ConfigLoader
from hydra.core.global_hydra import GlobalHydra
from hydra.errors import ConfigCompositionException
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from trainrig.config.resolvers import register_resolvers
from trainrig.config.tree import BUILTIN_CONF_DIR
from trainrig.sweeps.trial_configs import TrialConfigLoader

MULTIRUN = ["hydra/sweeper=optuna", "hydra/sweeper/pruner=none", "sweep=digits_tpe"]


class Loaders(NamedTuple):
    hydra: ConfigLoader  # Hydra's own
    trials: TrialConfigLoader  # trainrig's, over a counting proxy of Hydra's
    composed: list[list[str]]  # the jobs trainrig's loader left to Hydra's full compose
    master: DictConfig  # the multirun's config, as a sweeper receives it


class CountingLoader(TrialConfigLoader):
    """Hydra's loader as it is, noting each job it composes in full."""

    def __init__(self, loader: ConfigLoader, composed: list[list[str]]) -> None:
        super().__init__(loader)
        self.composed = composed

    def load_sweep_config(self, master_config: DictConfig, sweep_overrides: list[str]) -> Any:
        self.composed.append(list(sweep_overrides))
        return self.loader.load_sweep_config(master_config, sweep_overrides)


def _loaders(*master_overrides: str) -> Iterator[Loaders]:
    register_resolvers()
    with initialize_config_dir(config_dir=str(BUILTIN_CONF_DIR), version_base="1.3"):
        hydra = GlobalHydra.instance().hydra
        assert hydra is not None
        loader = hydra.config_loader
        master = loader.load_configuration("train", list(master_overrides), RunMode.MULTIRUN)
        composed: list[list[str]] = []
        trials = TrialConfigLoader(CountingLoader(loader, composed))
        yield Loaders(loader, trials, composed, master)


@pytest.fixture
def loaders(in_repo: Path) -> Iterator[Loaders]:
    yield from _loaders(*MULTIRUN, "hydra.sweep.dir=sweep")


def _same(fast: DictConfig, full: DictConfig) -> None:
    assert OmegaConf.to_yaml(fast) == OmegaConf.to_yaml(full)  # the hydra node included
    assert OmegaConf.is_struct(fast) and OmegaConf.is_struct(full)
    assert OmegaConf.is_readonly(fast.hydra) == OmegaConf.is_readonly(full.hydra)


JOBS = {
    "trial values": [
        "sweep=digits_tpe", "optimizer.lr=0.0012", "optimizer.weight_decay=1e-05",
        "model.dropout=0.25", "data.batch_size=64",
    ],
    "no fixed overrides": ["optimizer.lr=0.5", "seed=7"],
    "strings, null, lists, interpolations": [
        "optimized_metric='val/loss'", "resume=null", "task_name=train",
        "model.dropout=${optimizer.lr}", "trainer.max_epochs=3", "early_stopping.patience=2",
    ],
    "a value before a group choice": ["optimizer.lr=0.01", "model=cnn"],
    "a group choice last": ["model.dropout=0.1", "optimizer=sgd"],
    "a value after a group choice": ["model=cnn", "model.dropout=0.1", "optimizer.lr=0.2"],
    "additions and deletions": ["+note=hello", "++seed=3", "~task_name", "optimizer.lr=0.1"],
    "a hydra key": ["optimizer.lr=0.1", "hydra.job.chdir=true"],
    "a callback added last": [
        "optimizer.lr=0.1", "++callbacks.p={_target_:trainrig.x,url:'sqlite:////a b/c.db',n:3}",
    ],
    "a key added last": ["optimizer.lr=0.1", "+note=hello"],
}  # fmt: skip


@pytest.mark.parametrize("job", list(JOBS.values()), ids=list(JOBS))
def test_each_job_gets_the_config_hydra_composes(loaders: Loaders, job: list[str]) -> None:
    full = loaders.hydra.load_sweep_config(loaders.master, job)
    _same(loaders.trials.load_sweep_config(loaders.master, job), full)
    _same(loaders.trials.load_sweep_config(loaders.master, job), full)  # from the cache too


def test_trials_that_differ_in_values_compose_their_shared_part_once(loaders: Loaders) -> None:
    for lr in (0.1, 0.2, 0.3):
        job = ["sweep=digits_tpe", f"optimizer.lr={lr}", f"model.dropout={lr}"]
        config = loaders.trials.load_sweep_config(loaders.master, job)
        _same(config, loaders.hydra.load_sweep_config(loaders.master, job))
        assert config.optimizer.lr == lr
        assert config.hydra.job.override_dirname == ",".join(sorted(job))
    assert loaders.composed == [["sweep=digits_tpe"]]
    loaders.trials.load_sweep_config(loaders.master, ["model=cnn", "optimizer.lr=0.1"])
    assert loaders.composed == [["sweep=digits_tpe"], ["model=cnn"]]


def test_a_job_changing_its_config_leaves_the_next_jobs_alone(loaders: Loaders) -> None:
    job = ["sweep=digits_tpe", "optimizer.lr=0.1"]
    first = loaders.trials.load_sweep_config(loaders.master, job)
    first.optimizer.lr = 9.0
    first.hydra.overrides.task.append("seed=1")
    _same(
        loaders.trials.load_sweep_config(loaders.master, job),
        loaders.hydra.load_sweep_config(loaders.master, job),
    )


def test_a_bad_value_override_fails_as_in_hydra(loaders: Loaders) -> None:
    job = ["sweep=digits_tpe", "optimizer.lrr=0.1"]
    with pytest.raises(ConfigCompositionException) as hydra_error:
        loaders.hydra.load_sweep_config(loaders.master, job)
    with pytest.raises(ConfigCompositionException) as trainrig_error:
        loaders.trials.load_sweep_config(loaders.master, job)
    assert str(trainrig_error.value) == str(hydra_error.value)
    assert "Could not override 'optimizer.lrr'" in str(trainrig_error.value)


def test_jobs_share_the_multiruns_timestamped_directory(in_repo: Path) -> None:
    """The default sweep directory holds ${now:...}: every job resolves the master's value."""
    for loaders in _loaders(*MULTIRUN):
        job = ["sweep=digits_tpe", "optimizer.lr=0.1"]
        for _ in range(2):
            config = loaders.trials.load_sweep_config(loaders.master, job)
            assert config.hydra.sweep.dir == loaders.master.hydra.sweep.dir


def test_the_loader_pickles_for_launchers_that_ship_it_to_other_processes(
    loaders: Loaders,
) -> None:
    job = ["sweep=digits_tpe", "optimizer.lr=0.1"]
    loaders.trials.load_sweep_config(loaders.master, job)
    shipped = pickle.loads(pickle.dumps(TrialConfigLoader(loaders.hydra)))
    _same(
        shipped.load_sweep_config(loaders.master, job),
        loaders.hydra.load_sweep_config(loaders.master, job),
    )
