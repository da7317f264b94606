"""Warnings and log lines from libraries that say nothing about the run; filtered once per run."""

from __future__ import annotations

import logging
import warnings


def _drop_tips(record: logging.LogRecord) -> bool:
    return not str(record.msg).startswith("💡 Tip")


def _drop_weights_only_default(record: logging.LogRecord) -> bool:
    return "`weights_only` was not set" not in str(record.msg)


def silence_known_noise() -> None:
    """Filter warnings and log lines that are expected here and tell the user nothing."""
    # In-memory batches need no loader workers; Lightning's hint about them does not apply.
    warnings.filterwarnings("ignore", message=r".*does not have many workers.*")
    # Augmentation lives on the LightningModule on purpose: it needs the batch on the device.
    warnings.filterwarnings("ignore", message=r".*overridden `on_after_batch_transfer`.*")
    # Lightning 2.6 on torch 2.14 warns about its own use of torch's pytree internals.
    warnings.filterwarnings("ignore", message=r"`isinstance\(treespec, LeafSpec\)` is deprecated")
    # compression=quantize_dynamic uses torch.ao's quantized tensors, deprecated for torchao.
    warnings.filterwarnings("ignore", message=r"torch\.quantize_per_tensor, torch\.quantize_per")
    # A checkpoint of an older trainrig holds the random state at its callback's own key, which
    # the callback group now holding that callback restores itself (training/callbacks/group.py).
    warnings.filterwarnings(
        "ignore", message=r"Be aware that when using `ckpt_path`.*\['RandomStateInCheckpoint'\]\.$"
    )
    # Lightning advertises a hosted service at every start; it says nothing about this run.
    logging.getLogger("pytorch_lightning.utilities.rank_zero").addFilter(_drop_tips)
    # Lightning says a restore it was not told `weights_only` for defaults to False; trainrig's
    # Trainers read every checkpoint through SafeCheckpointIO, which loads weights-only anyway
    # (lr-find's temporary checkpoint too).
    logging.getLogger("pytorch_lightning.trainer.connectors.checkpoint_connector").addFilter(
        _drop_weights_only_default
    )
