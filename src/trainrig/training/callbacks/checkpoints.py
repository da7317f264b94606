"""The `callbacks.model_checkpoint` option: checkpoints/best.ckpt, and the top k when asked.

Which epoch is best is the `checkpoint` node's (`monitor`, `mode`), which early stopping, the
sweeper and the report read too; the runner passes them, with the checkpoint folder, by
position. Imports Lightning only when called, so validating reads the signature torch-free.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

from annotated_types import Ge

from trainrig.config.signature import option

if TYPE_CHECKING:
    from pytorch_lightning.callbacks import ModelCheckpoint

BEST_CHECKPOINT = "best"
TOP_K_NAME = "epoch={epoch}"  # checkpoints/epoch=7.ckpt


@option("callbacks")
def model_checkpoint(
    dirpath: Path,
    monitor: str,
    mode: Literal["min", "max"],
    /,
    save_top_k: Annotated[int, Ge(-1)] = 1,
    every_n_epochs: Annotated[int, Ge(1)] = 1,
) -> list[ModelCheckpoint]:
    """`best.ckpt` (the best epoch by `monitor`), checked every `every_n_epochs` epochs; with
    `save_top_k` k > 1 (-1: all) the k best are kept too, as `epoch=N.ckpt`; 0 keeps none (the
    run then tests the weights fitting ended with)."""
    from pytorch_lightning.callbacks import ModelCheckpoint

    from trainrig.training.callbacks.top_checkpoints import TopCheckpoints

    def saving(kind: type[ModelCheckpoint], filename: str, top_k: int) -> ModelCheckpoint:
        return kind(
            dirpath=dirpath,
            filename=filename,
            monitor=monitor,
            mode=mode,
            save_top_k=top_k,
            every_n_epochs=every_n_epochs,
            auto_insert_metric_name=False,
            enable_version_counter=False,
        )

    if save_top_k == 0:
        return []
    best = [saving(ModelCheckpoint, BEST_CHECKPOINT, 1)]
    return best if save_top_k == 1 else [*best, saving(TopCheckpoints, TOP_K_NAME, save_top_k)]
