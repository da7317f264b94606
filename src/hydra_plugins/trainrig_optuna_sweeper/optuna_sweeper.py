"""Registers trainrig's Optuna sweeper as `hydra/sweeper=optuna`; the work is in trainrig.sweeps.

Hydra imports this module at every start, so it imports nothing heavy: Optuna loads only when a
sweep begins.
"""

# No `from __future__ import annotations`: Hydra loads plugin modules outside sys.modules, where
# dataclasses cannot resolve string annotations.
from dataclasses import dataclass, field
from typing import Any, Optional

from hydra.core.config_store import ConfigStore
from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig


@dataclass
class OptunaSweeperConf:
    """The keys of hydra-optuna-sweeper's config, so its sweep configs work unchanged."""

    _target_: str = "hydra_plugins.trainrig_optuna_sweeper.optuna_sweeper.OptunaSweeper"
    _recursive_: bool = False  # the sampler is built by the study loop (grid needs the space)
    sampler: Any = field(default_factory=lambda: {"_target_": "optuna.samplers.TPESampler"})
    direction: Any = "minimize"
    storage: Optional[str] = None  # None: sqlite study.db in the sweep directory
    study_name: Optional[str] = None  # None: "trainrig"
    n_trials: int = 20
    n_jobs: int = 1
    max_failure_rate: float = 0.5  # share of failed trials that stops the sweep
    params: Optional[dict[str, Any]] = None
    custom_search_space: Optional[str] = None


ConfigStore.instance().store(
    group="hydra/sweeper", name="optuna", node=OptunaSweeperConf, provider="trainrig"
)


class OptunaSweeper(Sweeper):
    """Hydra's side of the sweeper: keeps the settings, hands the study loop to trainrig."""

    def __init__(self, **settings: Any) -> None:
        self.settings = settings

    def setup(
        self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig
    ) -> None:
        from hydra.core.plugins import Plugins

        self.config: DictConfig | None = config
        self.launcher = Plugins.instance().instantiate_launcher(
            hydra_context=hydra_context, task_function=task_function, config=config
        )

    def sweep(self, arguments: list[str]) -> Any:
        from trainrig.sweeps.study_loop import run_study

        assert self.config is not None
        return run_study(self.settings, self.config, self.launcher, arguments)
