"""The short table a run prints at the end: final metrics, why it stopped, where its files are."""

from __future__ import annotations

from pathlib import Path

import pytorch_lightning as pl
from pytorch_lightning.callbacks import EarlyStopping


def stop_reason(trainer: pl.Trainer) -> str:
    """Why fitting ended; call it right after `fit` (a checkpoint load restores callback state)."""
    reason = f"ran all trainer.max_epochs={trainer.max_epochs} epochs"
    for callback in trainer.callbacks:  # type: ignore[attr-defined]
        if not isinstance(callback, EarlyStopping):
            continue
        if callback.stopped_epoch > 0:
            detail = callback.stopping_reason_message or f"{callback.monitor} stopped improving"
            detail = detail.replace("Signaling Trainer to stop.", "").strip().rstrip(".")
            reason = f"early stopping at epoch {callback.stopped_epoch}: {detail}"
        best_epoch = getattr(callback, "best_epoch", None)
        if best_epoch is not None:
            restored = " (its weights restored)" if getattr(callback, "restore_best", False) else ""
            reason += f"; best epoch {best_epoch}{restored}"
    return reason


def print_summary(metrics: dict[str, float], run_dir: Path, seconds: float, reason: str) -> None:
    """Print the metrics table, the stop reason, the wall time and the run directory."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Final metrics", caption="of the best checkpoint", title_justify="left")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for name in sorted(metrics):
        table.add_row(name, f"{metrics[name]:.4f}")
    console = Console()
    console.print(table)
    console.print(f"Stopped: {reason}")
    console.print(f"Wall time: {seconds:.1f} s")
    console.print(f"Run directory: {run_dir}")
