"""What a user sees while and after training: the rich progress bar on a terminal and the final
summary table, from real short runs of `trainrig train` on digits."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
import pytorch_lightning as pl
import torch

from .conftest import run_trainrig

ANSI_CODE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
# Rich draws for a terminal of this width whatever the test's stdout is.
TERMINAL = {"TTY_COMPATIBLE": "1", "COLUMNS": "200"}


def _train_on_a_terminal(cwd: Path, *overrides: str) -> tuple[str, Path]:
    """Run a short training with the progress bar on; its screen output and run directory."""
    result = run_trainrig(
        "train", "trainer=smoke", "trainer.enable_progress_bar=true", *overrides,
        cwd=cwd, env=TERMINAL,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (run_dir,) = (cwd / "outputs" / "train" / "runs").iterdir()
    return ANSI_CODE.sub("", result.stdout), run_dir


def _epochs_in_csv(run_dir: Path, monitor: str = "val/acc") -> tuple[int, int]:
    """The last epoch trained and the first with the highest `monitor` (ModelCheckpoint's
    mode=max); rows after the last trained epoch (validating the best checkpoint) left out."""
    with (run_dir / "csv" / "metrics.csv").open() as lines:
        rows = list(csv.DictReader(lines))
    trained = {int(r["epoch"]) for r in rows if r["train/loss"]}
    scores = [(float(r[monitor]), int(r["epoch"])) for r in rows if r[monitor]]
    scores = [(score, epoch) for score, epoch in scores if epoch in trained]
    best = max(score for score, _ in scores)
    return max(trained), min(epoch for score, epoch in scores if score == best)


def _summary_row(screen: str, name: str) -> str:
    """The text of the summary table's row `name` (the table's last rendering)."""
    rows = re.findall(rf"│ {re.escape(name)}\s*│\s*(.*?)\s*│", screen)
    assert rows, f"no summary row {name!r} in:\n{screen[-3000:]}"
    return rows[-1]  # type: ignore[no-any-return]


def test_progress_bar_shows_epoch_time_left_and_loss(tmp_path: Path) -> None:
    screen, _ = _train_on_a_terminal(tmp_path, "trainer.max_epochs=3", "early_stopping=none")
    assert "Epoch 2/2" in screen
    assert re.search(r"\d+:\d\d:\d\d elapsed • \d+:\d\d:\d\d left", screen), screen[-3000:]
    assert re.search(r"\bloss: \d+\.\d{3}", screen)  # the live training loss
    assert re.search(r"train/loss: \d+\.\d{3}", screen)  # the epoch means, once an epoch ended
    assert re.search(r"val/acc: \d\.\d{3}", screen)
    assert "v_num" not in screen


def test_summary_names_best_epoch_without_early_stopping(tmp_path: Path) -> None:
    screen, run_dir = _train_on_a_terminal(
        tmp_path, "trainer.max_epochs=4", "early_stopping=none", "seed=3"
    )
    trained, best = _epochs_in_csv(run_dir)
    assert trained == 3
    assert re.fullmatch(rf"{best} of 0-3, val/acc \d\.\d{{4}}", _summary_row(screen, "best epoch"))
    assert _summary_row(screen, "stopped") == "ran all trainer.max_epochs=4 epochs"
    assert re.fullmatch(r"\d+\.\d s", _summary_row(screen, "wall time"))
    assert re.fullmatch(r"\d\.\d{4}", _summary_row(screen, "test/acc"))
    assert f"Run directory: {run_dir.resolve()}" in screen or f"Run directory: {run_dir}" in screen


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        (
            ["trainer.max_epochs=5", "early_stopping.patience=1", "early_stopping.min_delta=2"],
            r"early stopping at epoch 1: .*; the best epoch's weights restored",
        ),
        (["trainer.max_epochs=5", "trainer.max_steps=4"], r"trainer\.max_steps=4 reached"),
    ],
)
def test_summary_says_why_training_stopped(
    tmp_path: Path, overrides: list[str], reason: str
) -> None:
    screen, run_dir = _train_on_a_terminal(tmp_path, *overrides)
    assert re.fullmatch(reason, _summary_row(screen, "stopped"))
    trained, best = _epochs_in_csv(run_dir)
    assert _summary_row(screen, "best epoch").startswith(f"{best} of 0-{trained}, val/acc ")


class _RecordsLosses(pl.LightningModule):
    """A tiny regression model that remembers each training step's loss."""

    def __init__(self) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(4, 1)
        self.losses: list[float] = []

    def training_step(self, batch: list[torch.Tensor], batch_idx: int) -> torch.Tensor:
        x, y = batch
        loss = torch.nn.functional.mse_loss(self.layer(x), y)
        self.losses.append(float(loss.detach()))
        return loss

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=0.01)


def test_progress_bar_redraws_at_most_every_min_interval() -> None:
    """With a redraw interval longer than the run, the bar is drawn after the first step and the
    epoch's last; the loss it then shows is the mean of every step in between."""
    from trainrig.training.callbacks.progress_bar import ProgressBar

    screen = io.StringIO()
    bar = ProgressBar(min_interval=3600, console_kwargs={"file": screen, "force_terminal": True})
    data = torch.utils.data.TensorDataset(torch.randn(200, 4), torch.randn(200, 1))
    model = _RecordsLosses()
    trainer = pl.Trainer(
        max_epochs=1, accelerator="cpu", callbacks=[bar], logger=False,
        enable_checkpointing=False, enable_model_summary=False,
    )  # fmt: skip
    trainer.fit(model, torch.utils.data.DataLoader(data, batch_size=4))
    shown = re.findall(r"\bloss: (\d+\.\d{3})", ANSI_CODE.sub("", screen.getvalue()))
    assert len(model.losses) == 50
    first, rest = f"{model.losses[0]:.3f}", f"{sum(model.losses[1:]) / 49:.3f}"
    # the render thread may skip the first frame (ten renders a second); the last is drawn
    assert shown and shown[-1] == rest and set(shown) <= {first, rest}


class _SeesRenderThread(pl.Callback):
    """Records the bar's render thread while training runs."""

    def __init__(self) -> None:
        self.threads: list[object] = []

    def on_train_batch_end(self, trainer: pl.Trainer, *args: object) -> None:
        bar = trainer.progress_bar_callback
        self.threads.append(bar.progress.live._refresh_thread)  # type: ignore[union-attr]


def test_progress_bar_renders_from_a_thread_that_stops_at_once() -> None:
    """The bar's frames come from a thread that waits on its stop event (Lightning's sleeps a
    whole interval, so each fit and test waited up to 0.1 s for it to end); it ends with fit."""
    from trainrig.training.callbacks.progress_bar import ProgressBar, PromptRefreshThread

    screen = io.StringIO()
    bar = ProgressBar(min_interval=0, console_kwargs={"file": screen, "force_terminal": True})
    seen = _SeesRenderThread()
    data = torch.utils.data.TensorDataset(torch.randn(64, 4), torch.randn(64, 1))
    trainer = pl.Trainer(
        max_epochs=1, accelerator="cpu", callbacks=[bar, seen], logger=False,
        enable_checkpointing=False, enable_model_summary=False,
    )  # fmt: skip
    trainer.fit(_RecordsLosses(), torch.utils.data.DataLoader(data, batch_size=4))
    (thread,) = set(seen.threads)
    assert isinstance(thread, PromptRefreshThread) and thread.done.is_set()
    assert not thread.is_alive()  # joined when the bar stopped
    assert "16/16" in ANSI_CODE.sub("", screen.getvalue())  # and it drew the bar
