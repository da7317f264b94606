"""`own_module`: seconds per epoch of a user's LightningModule under trainrig against the same
module under a plain `pl.Trainer`.

The module and data module are the digits_project example's (examples/digits_project), trained in
this process for a few epochs each way, alternating sides for a few rounds to cancel drift.
trainrig's side is `trainrig.training.runner.train` on the example's `digits_module` experiment
with the optional callbacks off (progress bar, model summary, logger, early stopping): its
checkpoints (best and last), the config and random state in them stay, as they are part of every
run. The plain side is `pl.Trainer` with the same callbacks: a best checkpoint by val/f1_macro
and a last checkpoint every epoch, the same optimizer and per-step cosine schedule. Each side
drops its first two epochs (warm-up) and takes the median of the rest; the sides swap order each
round, and the ratio is the median of the rounds' ratios, so that drift and a busy machine's
bursts cancel. Goal: at most 1.03.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from result import Result

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "digits_project"
EPOCHS = 10
ROUNDS = 21  # each round about 2 s; epochs of about 50 ms vary by 10% on a shared machine
WARM_UP = 2  # epochs dropped on each side
GOAL = 1.03
OFF = (
    "trainer.enable_progress_bar=false",
    "trainer.enable_model_summary=false",
    "trainer.accelerator=cpu",
    "trainer.num_sanity_val_steps=0",
    "~logger",
    "early_stopping=none",
)


def _trainrig_epochs(work: Path) -> list[float]:
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf
    from training import quiet_lightning

    from trainrig.config.resolvers import register_resolvers
    from trainrig.config.tree import BUILTIN_CONF_DIR
    from trainrig.config.validate import validate
    from trainrig.training.runner import train

    register_resolvers()
    overrides = [
        "experiment=digits_module",
        f"trainer.max_epochs={EPOCHS}",
        "+callbacks.epoch_timer={_target_:epoch_timer.EpochTimer}",
        "allow_any_target=true",  # the timer is the benchmark's, outside the example project
        *OFF,
    ]
    with initialize_config_dir(config_dir=str(BUILTIN_CONF_DIR), version_base="1.3"):
        composed = compose(config_name="train", overrides=overrides)
    cfg = OmegaConf.create(validate(composed, "train"))
    with quiet_lightning():
        train(cfg, work)
    import epoch_timer

    return epoch_timer.EpochTimer.last.epoch_times()


def _plain_epochs(work: Path) -> list[float]:
    import pytorch_lightning as pl
    import torch
    from digits_project.data.digits_datamodule import DigitsDataModule
    from digits_project.models.digits_module import DigitsModule
    from epoch_timer import EpochTimer
    from pytorch_lightning.callbacks import ModelCheckpoint
    from training import quiet_lightning

    class WithOptimizer(DigitsModule):  # the module as a user would train it without trainrig
        def configure_optimizers(self) -> Any:
            optimizer = torch.optim.Adam(self.parameters(), lr=0.003)
            steps = int(self.trainer.estimated_stepping_batches)
            schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps)
            return {
                "optimizer": optimizer,
                "lr_scheduler": {"scheduler": schedule, "interval": "step"},
            }

    pl.seed_everything(42, verbose=False)
    timer = EpochTimer()
    best = ModelCheckpoint(dirpath=work, filename="best", monitor="val/f1_macro", mode="max")
    last = ModelCheckpoint(dirpath=work, filename="last")
    trainer = pl.Trainer(
        max_epochs=EPOCHS, accelerator="cpu", devices=1, logger=False,
        callbacks=[timer, best, last],
        enable_progress_bar=False, enable_model_summary=False, num_sanity_val_steps=0,
        default_root_dir=str(work),
    )  # fmt: skip
    with quiet_lightning():
        trainer.fit(WithOptimizer(), datamodule=DigitsDataModule(split_seed=42))
    return timer.epoch_times()


def measure() -> Result:
    """Median epoch seconds: trainrig's run against the plain Trainer, alternating rounds."""
    here = Path.cwd()
    sys.path.insert(0, str(EXAMPLE))
    os.chdir(EXAMPLE)  # trainrig finds the example's conf/ and experiments/ here
    plain: list[float] = []
    ours: list[float] = []
    sides = [(plain, _plain_epochs), (ours, _trainrig_epochs)]
    try:
        for round_ in range(ROUNDS):
            for times, epochs in sides if round_ % 2 == 0 else sides[::-1]:
                with tempfile.TemporaryDirectory() as work:
                    times.append(statistics.median(epochs(Path(work))[WARM_UP:]))
    finally:
        os.chdir(here)
        sys.path.remove(str(EXAMPLE))
    ratios = [o / p for o, p in zip(ours, plain, strict=True)]
    ratio = statistics.median(ratios)
    listed = " ".join(f"{r:.3f}" for r in ratios)
    return Result(
        benchmark="own_module",
        value=ratio * statistics.median(plain),  # so that value / baseline is the rounds' median
        baseline=statistics.median(plain),
        goal=GOAL,
        detail=f"{ROUNDS}x{EPOCHS} epochs of examples/digits_project's module; rounds {listed}",
    )
