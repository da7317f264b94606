"""The k best checkpoints beside best.ckpt (`callbacks.model_checkpoint.save_top_k`)."""

from __future__ import annotations

from pytorch_lightning.callbacks import ModelCheckpoint


class TopCheckpoints(ModelCheckpoint):
    """Lightning's ModelCheckpoint under a class name of its own: a callback's state in a
    checkpoint is keyed by its class name and monitor, so it and best.ckpt's (same monitor)
    would collide; best.ckpt's key stays Lightning's, so older runs still resume."""
