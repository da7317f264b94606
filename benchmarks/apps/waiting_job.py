"""A plain Hydra app whose job waits and returns x squared: a job that runs elsewhere (a cluster
node), as the sweeper and the launcher see it. `sweep_in_flight_remote` sweeps it with trainrig's
Optuna sweeper through hydra-submitit-launcher's local executor."""

from __future__ import annotations

import time

import hydra
from hydra.core.config_store import ConfigStore
from omegaconf import DictConfig

ConfigStore.instance().store(name="waiting_job", node={"x": 0, "seconds": 4.0})


@hydra.main(version_base="1.3", config_path=None, config_name="waiting_job")
def main(cfg: DictConfig) -> float:
    """Wait `seconds` (the job's work, done elsewhere), then return the objective x**2."""
    time.sleep(float(cfg.seconds))
    return float(cfg.x) ** 2


if __name__ == "__main__":
    main()
