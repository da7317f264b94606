"""The table a run prints at the end: final metrics, best epoch, why it stopped, wall time, and
where its files are."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytorch_lightning as pl
from pytorch_lightning.callbacks import EarlyStopping, ModelCheckpoint, Timer

from trainrig.training.callbacks.group import callbacks_of


@dataclass(frozen=True)
class FitEnd:
    """How fitting ended: why, the epochs trained and the best epoch (numbered from 0, as the
    progress bar and csv/metrics.csv count them) with its monitored value."""

    reason: str
    epochs_trained: int
    best_epoch: int | None = None
    best: str = ""  # e.g. "val/acc 0.9852"

    def __str__(self) -> str:
        return self.reason


def _best_score(trainer: pl.Trainer) -> str:
    """The checkpoint callback's monitored value of its best checkpoint, e.g. "val/acc 0.9852"."""
    callback = trainer.checkpoint_callback
    if not isinstance(callback, ModelCheckpoint) or callback.best_model_score is None:
        return ""
    return f"{callback.monitor} {float(callback.best_model_score):.4f}"


def _limit_reason(trainer: pl.Trainer) -> str:
    """Which trainer limit ended fitting when no early stopping did."""
    for timer in callbacks_of(trainer.callbacks, Timer):  # type: ignore[attr-defined]
        remaining = timer.time_remaining()
        if remaining is not None and remaining <= 0:
            return "trainer.max_time reached"
    if 0 < trainer.max_steps <= trainer.global_step:
        return f"trainer.max_steps={trainer.max_steps} reached"
    if trainer.interrupted:
        return "interrupted"
    return f"ran all trainer.max_epochs={trainer.max_epochs} epochs"


def stop_reason(trainer: pl.Trainer) -> FitEnd:
    """Why fitting ended; call it right after `fit` (a checkpoint load restores callback state).
    The best epoch is left for the caller to fill in once it has loaded the best checkpoint."""
    reason = _limit_reason(trainer)
    for callback in callbacks_of(trainer.callbacks, EarlyStopping):  # type: ignore[attr-defined]
        if callback.stopped_epoch > 0:
            detail = callback.stopping_reason_message or f"{callback.monitor} stopped improving"
            detail = detail.replace("Signaling Trainer to stop.", "").strip().rstrip(".")
            reason = f"early stopping at epoch {callback.stopped_epoch}: {detail}"
            if getattr(callback, "restore_best", False):
                reason += "; the best epoch's weights restored"
    return FitEnd(reason, trainer.current_epoch, best=_best_score(trainer))


def print_summary(
    metrics: dict[str, float],
    run_dir: Path,
    seconds: float,
    end: FitEnd | str,
    weights: str = "the best checkpoint",
) -> None:
    """Print one table (metrics, best epoch, stop reason, wall time), then the run directory.

    `end` is how fitting ended, or for a run without fitting (eval) what it did; `weights` says
    which weights the metrics are of.
    """
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Final metrics (of {weights})", title_justify="left")
    table.add_column("metric")
    table.add_column("value", overflow="fold")
    for name in sorted(metrics):
        table.add_row(name, f"{metrics[name]:.4f}")
    table.add_section()
    if isinstance(end, FitEnd):
        best = "-" if end.best_epoch is None else str(end.best_epoch)
        value = f", {end.best}" if end.best else ""
        table.add_row("best epoch", f"{best} of 0-{end.epochs_trained - 1}{value}")
        table.add_row("stopped", end.reason)
    else:
        table.add_row("run", end)
    table.add_row("wall time", f"{seconds:.1f} s")
    console = Console()
    console.print(table)
    console.print(f"Run directory: {run_dir}", soft_wrap=True)


def print_repeat_summary(
    results: dict[str, dict[str, float]], summary: dict[str, float], run_dir: Path, seconds: float
) -> None:
    """Print each metric's mean ± sample sd over the repetitions and its value in each one."""
    from rich.console import Console
    from rich.table import Table

    names = sorted(k.removesuffix("_std") for k in summary if k.endswith("_std"))
    table = Table(
        title=f"Final metrics over {len(results)} repetitions: mean ± sd (sample)",
        title_justify="left",
    )
    for column in ("metric", "mean ± sd", *results):
        table.add_column(column, no_wrap=True)
    for name in names:
        spread = f"{summary[name]:.4f} ± {summary[name + '_std']:.4f}"
        table.add_row(name, spread, *(f"{metrics[name]:.4f}" for metrics in results.values()))
    table.add_section()
    table.add_row("wall time", f"{seconds:.1f} s")
    console = Console()
    console.print(table)
    console.print(f"Run directory: {run_dir} (each repetition in repeats/)", soft_wrap=True)
