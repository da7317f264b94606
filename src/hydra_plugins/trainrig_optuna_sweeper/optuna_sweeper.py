"""Registers trainrig's Optuna sweeper as `hydra/sweeper=optuna`; the work is in trainrig.sweeps.

Hydra imports this module at every start, so it imports nothing heavy: Optuna loads only when a
sweep begins. Sampler and pruner presets are the groups `hydra/sweeper/sampler` and
`hydra/sweeper/pruner` (`hydra/sweeper/sampler=gp hydra/sweeper/pruner=hyperband`).
"""

# No `from __future__ import annotations`: Hydra loads plugin modules outside sys.modules, where
# dataclasses cannot resolve string annotations.
import sys
from dataclasses import dataclass, field
from importlib.util import find_spec
from typing import Any, Optional

from hydra.core.config_store import ConfigStore
from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction
from omegaconf import MISSING, DictConfig

OLD_PACKAGE = "hydra_plugins.hydra_optuna_sweeper"

# Optuna's own defaults, so a hydra-optuna-sweeper config that changes `_target_` still fits.
SAMPLERS = {
    "tpe": "TPESampler",
    "gp": "GPSampler",
    "random": "RandomSampler",
    "grid": "GridSampler",  # the grid comes from the search space
    "cmaes": "CmaEsSampler",
    "qmc": "QMCSampler",
    "nsgaii": "NSGAIISampler",
}
REMOVED_SAMPLERS = {"motpe": "MOTPESampler"}  # Optuna 4 removed it: the sweep says what to use
MEDIAN = {"_target_": "optuna.pruners.MedianPruner", "n_startup_trials": 5, "n_warmup_steps": 1}
PRUNERS: dict[str, dict[str, Any]] = {
    "none": {"_target_": "optuna.pruners.NopPruner"},
    "median": MEDIAN,
    "percentile": {**MEDIAN, "_target_": "optuna.pruners.PercentilePruner", "percentile": 25.0},
    "successive_halving": {
        "_target_": "optuna.pruners.SuccessiveHalvingPruner",
        "min_resource": 2,  # first rung after 2 epochs: one epoch's val metric says little yet
        "reduction_factor": 3,
    },
    "hyperband": {
        "_target_": "optuna.pruners.HyperbandPruner",
        "min_resource": 1,
        "reduction_factor": 3,
    },
    "wilcoxon": {"_target_": "optuna.pruners.WilcoxonPruner", "p_threshold": 0.1},
    "patient": {
        "_target_": "optuna.pruners.PatientPruner",
        "wrapped_pruner": MEDIAN,
        "patience": 2,
    },
}


@dataclass
class OptunaSweeperConf:
    """hydra-optuna-sweeper's keys, so its sweep configs work unchanged, and trainrig's own."""

    _target_: str = "hydra_plugins.trainrig_optuna_sweeper.optuna_sweeper.OptunaSweeper"
    _recursive_: bool = False  # samplers and pruners are built by the study loop
    defaults: list[Any] = field(default_factory=lambda: [{"sampler": "tpe"}, {"pruner": "none"}])
    sampler: Any = MISSING  # from the group hydra/sweeper/sampler
    pruner: Any = MISSING  # from the group hydra/sweeper/pruner
    # or a list, one per objective; None: minimize in another app, in trainrig's derived from
    # each optimized_metric (checkpoint.mode when it monitors the metric, else its name)
    direction: Any = None
    storage: Optional[str] = None  # None: sqlite study.db in the sweep directory
    study_name: Optional[str] = None  # None: "trainrig"
    n_trials: int = 20  # in total: a resumed study runs only the missing ones
    n_jobs: int = 1  # hydra-optuna-sweeper's key; trainrig runs n_workers processes instead
    n_workers: int = 1  # trial processes working at once; 1 runs trials in this process
    gpus_per_trial: int = 0  # CUDA devices each worker owns (CUDA_VISIBLE_DEVICES)
    max_failure_rate: float = 0.5  # share of failed trials that stops the sweep
    heartbeat_interval: int = 5  # seconds; a worker silent for 2x+2 is dead, its trial re-queued
    max_retries: int = 3  # times a dead worker's trial is queued again
    # {} rather than None, so `hydra.sweeper.params.KEY=...` on the command line has a node to go in
    params: Optional[dict[str, Any]] = field(default_factory=dict)
    custom_search_space: Optional[str] = None  # "module.function(cfg, trial)" suggesting more
    search_space: Optional[Any] = None  # hydra-optuna-sweeper 1.1's, deprecated: use params
    # configurations run first: mappings of parameter names to values, or YAML files (best.yaml)
    enqueue: Optional[Any] = None
    # bounds on a trainrig run's metrics, e.g. ["model/parameters <= 20000"]: infeasible trials
    constraints: Optional[Any] = None


store = ConfigStore.instance()
store.store(group="hydra/sweeper", name="optuna", node=OptunaSweeperConf, provider="trainrig")
for _name, _class in {**SAMPLERS, **REMOVED_SAMPLERS}.items():
    _sampler = {"_target_": f"optuna.samplers.{_class}", "seed": None}
    store.store(group="hydra/sweeper/sampler", name=_name, node=_sampler)
for _name, _node in PRUNERS.items():
    store.store(group="hydra/sweeper/pruner", name=_name, node=_node)


def old_plugin_installed() -> bool:
    """Whether hydra-optuna-sweeper itself is importable (not trainrig's stand-in for its name)."""
    module = sys.modules.get(OLD_PACKAGE)
    if module is not None:
        return not getattr(module, "TRAINRIG_STAND_IN", False)
    return find_spec(OLD_PACKAGE) is not None


if old_plugin_installed():
    print(
        "trainrig: warning: hydra-optuna-sweeper is installed too; it also registers "
        "hydra/sweeper=optuna, and Hydra picks one of the two by import order. "
        "Uninstall it (pip uninstall hydra-optuna-sweeper): trainrig's sweeper reads its configs.",
        file=sys.stderr,
    )


class OptunaSweeper(Sweeper):
    """Hydra's side of the sweeper: keeps the settings, hands the study loop to trainrig."""

    def __init__(self, **settings: Any) -> None:
        self.settings = settings

    def setup(
        self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig
    ) -> None:
        from hydra.core.plugins import Plugins

        from trainrig.sweeps.trial_configs import TrialConfigLoader

        self.config: Optional[DictConfig] = config
        # trainrig's own app (its allow-list, objectives, pruning) or another Hydra app's
        self.own_app = getattr(task_function, "__module__", "").startswith("trainrig.")
        loader = TrialConfigLoader(hydra_context.config_loader)  # trials compose in ~1/10 the time
        self.launcher = Plugins.instance().instantiate_launcher(
            hydra_context=HydraContext(config_loader=loader, callbacks=hydra_context.callbacks),
            task_function=task_function,
            config=config,
        )

    def sweep(self, arguments: list[str]) -> None:
        from trainrig.sweeps.study_loop import run_study

        assert self.config is not None
        run_study(self.settings, self.config, self.launcher, arguments, self.own_app)
