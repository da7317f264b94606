"""An output folder Hydra cannot create, told as bad input that names the override to change."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from omegaconf import DictConfig


def _composed_config(error: BaseException) -> DictConfig | None:
    """The config (with its `hydra` node) Hydra was running when `error` was raised: a local
    of Hydra's own frames (`run_job`'s `config`, `Hydra.multirun`'s `cfg`), since Hydra's global
    config is reset by the time the error reaches the CLI."""
    from omegaconf import DictConfig

    traceback = error.__traceback__
    while traceback is not None:
        for value in traceback.tb_frame.f_locals.values():
            if isinstance(value, DictConfig) and "hydra" in value:
                return value
        traceback = traceback.tb_next
    return None


def _configured_dir(config: DictConfig, key: str) -> Path | None:
    """`hydra.run.dir` or `hydra.sweep.dir` of `config`, made absolute."""
    from omegaconf import OmegaConf

    try:
        value = OmegaConf.select(config, key)
    except Exception:  # an interpolation that does not resolve here
        return None
    return Path(os.path.abspath(str(value))) if value is not None else None


def unwritable_output_dir(error: BaseException) -> str | None:
    """The message for an OSError met creating the run or sweep folder (the folder itself or
    one above it), or None when `error` is something else."""
    if not isinstance(error, OSError) or not error.filename:
        return None
    config = _composed_config(error)
    if config is None:
        return None
    failed = Path(os.path.abspath(os.fsdecode(error.filename)))
    for key in ("hydra.run.dir", "hydra.sweep.dir"):
        folder = _configured_dir(config, key)
        if folder is not None and (failed == folder or failed in folder.parents):
            return (
                f"{key}: cannot create the output folder {folder} ({error.strerror}); "
                f"choose a folder you can write to, e.g. {key}=outputs/my_run"
            )
    return None
