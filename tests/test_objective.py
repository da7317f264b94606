"""A run returns its `optimized_metric`, as Hydra sweepers expect."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, open_dict

from trainrig.cli.tasks import train_task


@pytest.mark.parametrize("metric", ["val/acc", "test/loss"])
def test_train_task_returns_the_optimized_metric(
    metric: str, compose_train: Callable[..., DictConfig], tmp_path: Path
) -> None:
    from hydra import compose, initialize_config_dir

    from trainrig.config.tree import BUILTIN_CONF_DIR

    with initialize_config_dir(config_dir=str(BUILTIN_CONF_DIR), version_base="1.3"):
        cfg = compose(
            config_name="train",
            overrides=["trainer=smoke", f"optimized_metric={metric}"],
            return_hydra_config=True,
        )
    with open_dict(cfg):
        cfg.hydra.runtime.output_dir = str(tmp_path)
        cfg.hydra.job.num = 0
    HydraConfig.instance().set_config(cfg)
    with open_dict(cfg):
        del cfg["hydra"]
    value = train_task(cfg)
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert value == metrics[metric]
