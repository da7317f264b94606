"""`logger=wandb`: a Weights & Biases run in `<run>/wandb/`, offline unless asked otherwise.

Offline by default, so a run needs no account and no network: `wandb sync <run>/wandb/offline-run-*`
uploads it later. `mode=online` (after `wandb login`) logs live; `mode` null follows WANDB_MODE.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from trainrig.config.optional_packages import require_extra
from trainrig.config.signature import option

if TYPE_CHECKING:
    from pytorch_lightning.loggers import Logger, WandbLogger

LOCAL_DIR = "wandb"  # wandb.init(dir=<run>) writes its runs into <run>/wandb/
Mode = Literal["offline", "online", "disabled"]


def wandb_installed(**_: object) -> None:
    """logger=wandb needs the wandb extra."""
    require_extra("wandb", "wandb", "logger=wandb")


@option("logger", rule=wandb_installed)
def build_wandb_logger(
    save_dir: str,
    /,
    project: str = "trainrig",
    name: str | None = None,
    mode: Mode | None = "offline",
    entity: str | None = None,
    group: str | None = None,
    tags: list[str] | None = None,
) -> WandbLogger:
    """Lightning's WandbLogger writing into `<save_dir>/wandb/`; `name` null: the run
    directory's name; `mode` null: the WANDB_MODE variable's, else offline."""
    require_extra("wandb", "wandb", "logger=wandb")
    import wandb
    from pytorch_lightning.loggers import WandbLogger

    # Lightning's WandbLogger would log into a run still open in this process (the previous
    # trial of a sweep); finish it first, as wandb.init(reinit="finish_previous") does.
    if wandb.run is not None:
        wandb.run.finish()
    run_dir = Path(save_dir)
    return WandbLogger(
        save_dir=save_dir,
        project=project,
        name=name or run_dir.name,
        id=existing_run_id(run_dir),
        mode=mode or os.environ.get("WANDB_MODE", "offline"),
        entity=entity,
        group=group,
        tags=tags,
    )


def existing_run_id(run_dir: Path) -> str | None:
    """The W&B run id an earlier start of this run used (`trainrig resume`), to carry on in it:
    wandb names each run's folder `[offline-]run-<time>-<id>` (a later one may add `-N`)."""
    folders = sorted((run_dir / LOCAL_DIR).glob("*run-*-*"), key=lambda p: p.stat().st_mtime)
    for folder in reversed(folders):
        if folder.is_dir() and not folder.is_symlink():
            for log in folder.glob("run-*.wandb"):
                return log.stem.removeprefix("run-")
    return None


def finish_wandb_runs(loggers: list[Logger]) -> None:
    """Finish the W&B run of any WandbLogger among `loggers` now, so that its log holds the
    run's exit record when trainrig returns; left to wandb's exit hook, the record was sometimes
    missing (the run read back as still running)."""
    from pytorch_lightning.loggers import WandbLogger

    if any(isinstance(logger, WandbLogger) for logger in loggers):
        import wandb

        if wandb.run is not None:
            wandb.run.finish()
