"""`trainrig lr-find`: Lightning's learning-rate range test on a composed experiment."""

from __future__ import annotations

import json
import math
from pathlib import Path

from omegaconf import DictConfig

from trainrig.config.errors import ConfigError
from trainrig.rundir.checkpoint_io import SafeCheckpointIO
from trainrig.rundir.results import write_atomic, write_config
from trainrig.training.build import build_data, build_module
from trainrig.training.known_noise import silence_known_noise

PLOT_FILE = "lr_find.png"
RESULT_FILE = "lr_find.json"


def find_lr(cfg: DictConfig, run_dir: Path) -> float | None:
    """Run the range test; write the loss-vs-lr plot and the curve; return the suggested lr."""
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import pytorch_lightning as pl
    from pytorch_lightning.tuner.tuning import Tuner

    if cfg.trainer.get("fast_dev_run"):  # Lightning's tuner skips the test then
        raise ConfigError(
            "trainer.fast_dev_run: Lightning skips the lr range test in a fast dev run; "
            "leave out debug=fdr (or trainer.fast_dev_run) for lr-find"
        )
    silence_known_noise()
    pl.seed_everything(cfg.seed, workers=True, verbose=False)
    write_config(run_dir, cfg)
    data = build_data(cfg)
    classifier = build_module(cfg, data)
    options = {k: v for k, v in cfg.trainer.items() if k not in ("_target_", "max_epochs")}
    trainer = pl.Trainer(
        **options,
        logger=False,
        enable_checkpointing=False,
        default_root_dir=str(run_dir),
        plugins=[SafeCheckpointIO()],  # the test's temporary checkpoint is read weights-only
    )
    search = cfg.lr_find
    finder = Tuner(trainer).lr_find(
        classifier,
        datamodule=data,
        min_lr=search.min_lr,
        max_lr=search.max_lr,
        num_training=search.num_training,
        mode=search.mode,
        update_attr=False,
    )
    assert finder is not None
    raw = finder.suggestion()
    suggestion = float(raw) if raw is not None and math.isfinite(raw) else None
    figure = finder.plot(suggest=suggestion is not None)
    assert figure is not None
    figure.axes[0].set_title(f"LR range test ({search.num_training} steps, {search.mode})")
    figure.savefig(run_dir / PLOT_FILE, dpi=100)
    import matplotlib.pyplot as plt

    plt.close(figure)  # Lightning's plot opens it with pyplot: a process running more keeps none
    result = {
        "suggested_lr": suggestion,
        "lr": finder.results["lr"],
        "loss": finder.results["loss"],
    }
    write_atomic(run_dir / RESULT_FILE, json.dumps(result, indent=2) + "\n")
    _report(suggestion, run_dir)
    return suggestion


def _report(suggestion: float | None, run_dir: Path) -> None:
    from rich.console import Console

    console = Console()
    if suggestion is None:
        console.print("No learning rate suggested: the loss curve had no clear descent.")
    else:
        console.print(
            f"Suggested learning rate: {suggestion:.3g} (use optimizer.lr={suggestion:.3g})"
        )
    console.print(f"Loss-vs-lr plot: {run_dir / PLOT_FILE}")
