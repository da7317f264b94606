"""Rich progress bar with the run's time left and a live training loss, redrawn at most ten times a
second and without the logger's version."""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import pytorch_lightning as pl
from pytorch_lightning.callbacks import RichProgressBar
from pytorch_lightning.callbacks.progress.rich_progress import CustomTimeColumn, _RefreshThread
from rich.progress import ProgressColumn, Task
from rich.text import Text
from torch import Tensor


def _clock(seconds: float) -> str:
    return str(timedelta(seconds=int(seconds)))


class RunTimeColumn(ProgressColumn):
    """The whole fit's elapsed time and estimated time left on the training bar; a validation
    bar shows its own elapsed and remaining time, as Lightning's column does."""

    def __init__(self, style: Any) -> None:
        self.style = style
        super().__init__()

    def render(self, task: Task) -> Text:
        text = task.fields.get("run_time")  # set by ProgressBar
        if text is None:
            elapsed = task.finished_time if task.finished else task.elapsed
            remaining = task.time_remaining
            text = " • ".join("-:--:--" if t is None else _clock(t) for t in (elapsed, remaining))
        return Text(text, style=self.style)


class PromptRefreshThread(_RefreshThread):
    """Lightning's render thread, but it waits on its stop event instead of sleeping: stopping
    the bar (twice a run: after fit and after test) no longer waits up to a whole interval for
    the thread to wake (about 0.1 s a run, a quarter of a sweep trial's set-up cost)."""

    def run(self) -> None:
        while not self.done.wait(1 / self.refresh_per_second):
            if self.refresh_cond:
                with self.live._lock:
                    self.live.refresh()
                self.refresh_cond = False


class ProgressBar(RichProgressBar):
    """Lightning's rich progress bar (epoch, batches, speed, epoch metrics) plus the time the run
    has left and `loss`, the mean training loss of the steps since the last redraw.

    A small model runs a hundred steps a second; redrawing after each one would cost more than
    the step itself, so the bar is redrawn every `min_interval` seconds and after an epoch's last
    batch. The step losses are summed on the device and read (one sync) only at a redraw.
    """

    def __init__(self, min_interval: float = 0.1, **rich_options: Any) -> None:
        # Lightning's bar renders from a thread up to `refresh_rate` times a second (100 by
        # default), each render taking the GIL from training; ten is enough to read.
        rich_options.setdefault("refresh_rate", 10)
        super().__init__(**rich_options)
        self.min_interval = min_interval
        self._last_draw = float("-inf")
        self._loss_sum: Tensor | None = None
        self._loss_steps = 0
        self._shown_loss: float | None = None
        self._fit_start = (0.0, 0)  # (monotonic seconds, global step) when this fit started

    def configure_columns(self, trainer: pl.Trainer) -> list[Any]:
        return [
            RunTimeColumn(style=self.theme.time) if isinstance(c, CustomTimeColumn) else c
            for c in super().configure_columns(trainer)
        ]

    def _init_progress(self, trainer: pl.Trainer) -> None:
        super()._init_progress(trainer)
        live = getattr(self.progress, "live", None)
        sleeper = getattr(live, "_refresh_thread", None)
        if live is not None and type(sleeper) is _RefreshThread:
            sleeper.stop()  # ends by itself after its current sleep
            live._refresh_thread = PromptRefreshThread(live, sleeper.refresh_per_second)
            live._refresh_thread.start()

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        super().on_train_start(trainer, pl_module)
        self._shown_loss = None
        self._fit_start = (time.monotonic(), trainer.global_step)

    def on_train_batch_end(
        self,
        trainer: pl.Trainer,
        pl_module: pl.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
    ) -> None:
        if self.is_disabled:
            return
        loss = outputs.get("loss") if isinstance(outputs, Mapping) else outputs
        if isinstance(loss, Tensor):
            loss = loss.detach()
            self._loss_sum = loss if self._loss_sum is None else self._loss_sum + loss
            self._loss_steps += 1
        now = time.monotonic()
        if batch_idx + 1 >= self.total_train_batches or now - self._last_draw >= self.min_interval:
            self._last_draw = now
            if self._loss_sum is not None:
                self._shown_loss = float(self._loss_sum) / self._loss_steps
                self._loss_sum, self._loss_steps = None, 0
            if self.progress is not None and self.train_progress_bar_id is not None:
                self.progress.update(self.train_progress_bar_id, run_time=self._times(trainer))
            super().on_train_batch_end(trainer, pl_module, outputs, batch, batch_idx)

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.refresh(hard=True)  # the last frame, which the render thread may not have drawn yet
        super().on_train_end(trainer, pl_module)

    def _times(self, trainer: pl.Trainer) -> str:
        """ "0:00:03 elapsed • 0:00:12 left" for the whole fit, from its mean time per step so far
        (validation included); with early stopping the run may end sooner."""
        started, first_step = self._fit_start
        elapsed = time.monotonic() - started
        done = trainer.global_step - first_step
        total = trainer.estimated_stepping_batches
        left = "-:--:--"
        if done > 0 and math.isfinite(total):
            left = _clock(elapsed / done * max(total - trainer.global_step, 0))
        return f"{_clock(elapsed)} elapsed • {left} left"

    def get_metrics(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> dict[str, Any]:
        items = super().get_metrics(trainer, pl_module)
        items.pop("v_num", None)  # one run per directory: the version says nothing
        if self._shown_loss is None or trainer.state.fn != "fit":  # not in a later test run
            return items
        return {"loss": self._shown_loss, **items}
