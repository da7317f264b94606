"""PNG figures of training curves: one per run, and one overlay of every run.

Figures have a fixed size in pixels (`FIGURE_PIXELS`), so the report's layout does not depend on
the data; matplotlib draws them with its Agg backend (no display needed).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from trainrig.report.curves import LR, Curves

DPI = 100
FIGURE_PIXELS = (1200, 360)  # width, height
# Panel title -> the metrics drawn in it.
PANELS = {
    "loss": ("train/loss", "val/loss"),
    "accuracy": ("train/acc", "val/acc"),
    "learning rate": (LR,),
}
OVERLAID = {"val/loss": "loss", "val/acc": "accuracy", LR: "learning rate"}


def _figure() -> tuple[Any, list[Any]]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    width, height = FIGURE_PIXELS
    figure, axes = plt.subplots(
        1, len(PANELS), figsize=(width / DPI, height / DPI), dpi=DPI, layout="constrained"
    )
    for ax in axes:
        ax.set_xlabel("epochs trained")
        ax.grid(alpha=0.3)
    return figure, list(axes)


def _save(figure: Any, path: Path) -> Path:
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png", dpi=DPI)  # no bbox_inches="tight": keep the pixel size
    plt.close(figure)
    return path


def _draw(ax: Any, curves: Curves, metric: str, label: str) -> None:
    if curves.has(metric):
        epochs, values = curves.series[metric]
        ax.plot(epochs, values, marker="." if metric != LR else None, label=label)


def _finish(ax: Any, title: str) -> None:
    ax.set_title(title)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize="small")
    else:
        ax.text(0.5, 0.5, "not logged", ha="center", va="center", transform=ax.transAxes)


def plot_run(curves: Curves, title: str, path: Path) -> Path:
    """Loss, accuracy and learning rate of one run, side by side."""
    figure, axes = _figure()
    figure.suptitle(title, fontsize="medium")
    for ax, (panel, metrics) in zip(axes, PANELS.items(), strict=True):
        for metric in metrics:
            _draw(ax, curves, metric, metric)
        _finish(ax, panel)
    return _save(figure, path)


def plot_overlay(curves_by_run: dict[str, Curves], path: Path) -> Path:
    """Validation loss, validation accuracy and learning rate of every run, one line each."""
    figure, axes = _figure()
    for ax, (metric, panel) in zip(axes, OVERLAID.items(), strict=True):
        for label, curves in curves_by_run.items():
            _draw(ax, curves, metric, label)
        _finish(ax, f"{panel} ({metric})")
    return _save(figure, path)
