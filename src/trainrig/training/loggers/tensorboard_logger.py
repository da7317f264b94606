"""`logger=tensorboard`: TensorBoard event files in `<run>/tensorboard/`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from trainrig.config.optional_packages import require_extra
from trainrig.config.signature import option

if TYPE_CHECKING:
    from pytorch_lightning.loggers import TensorBoardLogger


def tensorboard_installed(**_: object) -> None:
    """logger=tensorboard needs the tensorboard extra."""
    require_extra("tensorboard", "tensorboard", "logger=tensorboard")


@option("logger", rule=tensorboard_installed)
def build_tensorboard_logger(
    save_dir: str, /, name: str = "tensorboard", version: str = ""
) -> TensorBoardLogger:
    """Lightning's TensorBoardLogger writing straight into `<save_dir>/<name>/<version>`.

    No `hp_metric` placeholder: the hyperparameters are logged on their own, the metrics by name.
    """
    require_extra("tensorboard", "tensorboard", "logger=tensorboard")
    from pytorch_lightning.loggers import TensorBoardLogger

    return TensorBoardLogger(save_dir, name=name, version=version, default_hp_metric=False)
