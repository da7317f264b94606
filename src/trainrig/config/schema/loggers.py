"""Schemas of the `logger` options beyond CSV: TensorBoard and MLflow."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from trainrig.config.optional_packages import require_extra


@dataclass
class TensorBoardLoggerConfig:
    _target_: str = "trainrig.training.loggers.tensorboard_logger.build_tensorboard_logger"
    name: str = "tensorboard"
    version: str = ""

    def __post_init__(self) -> None:
        require_extra("tensorboard", "tensorboard", "logger=tensorboard")


@dataclass
class MLflowLoggerConfig:
    _target_: str = "trainrig.training.loggers.mlflow_logger.build_mlflow_logger"
    experiment_name: str = "trainrig"
    run_name: Optional[str] = None
    tracking_uri: Optional[str] = None
    artifact_location: Optional[str] = None
    tags: Optional[dict[str, str]] = field(default=None)

    def __post_init__(self) -> None:
        require_extra("mlflow", "mlflow", "logger=mlflow")
