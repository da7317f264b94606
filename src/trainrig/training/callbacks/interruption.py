"""SIGTERM and SIGINT while a run trains or tests: finish the step, save last.ckpt, say so, exit
128 + the signal's number (as a shell reports a process the signal ended); a second one ends the
process at once.

Lightning 2.6 already stops its loops after the current batch on SIGTERM (its signal connector
sets `trainer.received_sigterm`, the loops raise `SIGTERMException`, a SystemExit whose status
is 0) and composes the handler it finds with its own. Here the same exception is raised for
SIGINT too (Ctrl-C would otherwise raise KeyboardInterrupt in the middle of a step), the
checkpoint is saved in `on_exception` as Lightning's `OnExceptionCheckpoint` does, and the
runner turns the exception into the exit status (`StopOnSignal.handled`).

With several processes (DDP) the decision to stop is taken together: at each check every rank
contributes the signal it received (0: none) to an all-reduce (max), so a signal that reached one
rank alone stops them all after the same batch, and all of them exit 128 + that signal's number.
For that, Lightning's own SIGTERM handler is replaced once it is set (on_train_start, ...): on a
rank other than 0 it broadcasts inside the handler, a collective the other ranks never join, and
it stops that rank alone, leaving the others waiting in the next collective until the timeout.

A signal during an epoch's last training batch stops the run only once that epoch ended (its
validation logged, its checkpoints saved), as the next one begins: a resumed run then holds every
epoch's rows once and chooses the same best.ckpt as a run that was never stopped.

Under Slurm, Lightning's requeue handler (SIGUSR1 with `#SBATCH --signal=USR1@90`) saves
`hpc_ckpt_N.ckpt` and runs `scontrol requeue`, then lets training go on until Slurm kills the job.
Here the run stops after that step as for SIGTERM: `last.ckpt` is saved, and the process says it
was requeued and exits 138 (128 + SIGUSR1), never claiming to have finished.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

import pytorch_lightning as pl
import torch
from lightning_fabric.plugins.environments.slurm import SLURMEnvironment
from pytorch_lightning.callbacks import Callback
from pytorch_lightning.trainer.states import TrainerFn
from pytorch_lightning.utilities import rank_zero_only
from pytorch_lightning.utilities.exceptions import SIGTERMException

SIGNALS = (signal.SIGTERM, signal.SIGINT)
REQUEUE = signal.SIGUSR1  # SLURMEnvironment's default requeue signal


class StopOnSignal(Callback):
    """Stops the run after the current batch once SIGTERM or SIGINT came; saves `last` mid-fit."""

    def __init__(self, last_checkpoint: Path, resume_hint: str) -> None:
        self.last_checkpoint = last_checkpoint
        self.resume_hint = resume_hint  # what continues the run, e.g. `trainrig resume RUN`
        self.received: int | None = None  # the signal this process received
        self.stopping: int | None = None  # the signal the run stops for, on every rank alike
        self.where = ""
        self.between_epochs = False  # stopped as an epoch began: last.ckpt is the epoch before's

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self.received is not None:  # the second signal: no more waiting
            print(f"second {signal.Signals(signum).name}: stopped at once", file=sys.stderr)
            sys.stderr.flush()
            os._exit(128 + signum)
        self.received = signum

    def _agreed(self, trainer: pl.Trainer) -> bool:
        """Whether the run stops here: a signal came to this process or, with several processes,
        to any of them (one all-reduce of a number; every rank calls this at the same points)."""
        if self.stopping is not None:
            return True
        signalled = self.received or 0
        if trainer.world_size > 1 and torch.distributed.is_initialized():
            flag = torch.tensor([signalled], device=trainer.strategy.root_device)
            torch.distributed.all_reduce(flag, op=torch.distributed.ReduceOp.MAX)
            signalled = int(flag.item())
        if signalled:
            self.stopping = signalled
        return self.stopping is not None

    def _stop_if_signalled(self, trainer: pl.Trainer) -> None:
        if self._agreed(trainer):
            raise SIGTERMException

    def _own_sigterm(self) -> None:
        """Replace the SIGTERM handler Lightning set as its stage began (and restores at its end):
        in a multi-process run it runs a collective inside the handler (see the module's notes)."""
        signal.signal(signal.SIGTERM, self._on_signal)

    def on_sanity_check_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._own_sigterm()

    def on_test_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._own_sigterm()

    def on_validation_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._own_sigterm()

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """Take SIGTERM over from Lightning; under Slurm, after the requeue handler Lightning set
        when fitting began (it sets none where SIGUSR1 has a handler already), stop as for
        SIGTERM."""
        self._own_sigterm()
        requeue = signal.getsignal(REQUEUE)
        if not SLURMEnvironment.detect() or not callable(requeue):
            return

        def requeued(signum: int, frame: FrameType | None) -> None:
            requeue(signum, frame)  # hpc_ckpt_N.ckpt, `scontrol requeue`
            self._on_signal(signum, frame)

        signal.signal(REQUEUE, requeued)  # Lightning's teardown puts back the handler it found

    def on_train_batch_end(
        self,
        trainer: pl.Trainer,
        pl_module: pl.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
    ) -> None:
        """The step is done (optimizer stepped): stop here if a signal came, unless it was the
        epoch's last batch (then the epoch ends first: see on_train_epoch_start)."""
        if batch_idx + 1 < trainer.num_training_batches:
            self._stop_if_signalled(trainer)

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """A signal that came while the epoch before ended (validation, checkpoints) stops the
        run before this one trains a step: the epoch's last.ckpt resumes it exactly."""
        if self._agreed(trainer):
            self.between_epochs = True
            raise SIGTERMException

    def on_validation_batch_end(self, trainer: pl.Trainer, *args: Any) -> None:
        """Validating alone (not within fit, whose epoch ends first): stop after the batch."""
        if trainer.state.fn == TrainerFn.VALIDATING:
            self._stop_if_signalled(trainer)

    def on_test_batch_end(self, trainer: pl.Trainer, *args: Any) -> None:
        """Testing the best checkpoint: stop after the batch (last.ckpt is the final epoch's)."""
        self._stop_if_signalled(trainer)

    def on_exception(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, exception: BaseException
    ) -> None:
        """Save the interrupted fit where it stands, so resuming continues from this step."""
        if not isinstance(exception, SIGTERMException) or self.stopping is None:
            return
        self.where = f"epoch {trainer.current_epoch}, step {trainer.global_step}"
        if trainer.state.fn == TrainerFn.FITTING and not self.between_epochs:
            for logger in trainer.loggers:  # the rows up to this step, which resuming skips
                logger.save()
            trainer.save_checkpoint(self.last_checkpoint)

    @contextmanager
    def handled(self) -> Iterator[None]:
        """While the block runs, SIGTERM and SIGINT stop it after the batch; a stopped block
        prints where it stopped and how to go on, and exits 128 + the signal's number."""
        previous = {signum: signal.signal(signum, self._on_signal) for signum in SIGNALS}
        try:
            yield
        except SIGTERMException:
            if self.stopping is None:  # Lightning's own stop, for a signal it alone saw
                raise
            name = signal.Signals(self.stopping).name
            where = f" at {self.where}" if self.where else ""
            hint = self.resume_hint
            if self.stopping == REQUEUE:  # Lightning's handler ran `scontrol requeue`
                hint = f"Slurm requeued the job, whose resume=auto continues; or {hint}"
            if getattr(rank_zero_only, "rank", 0) == 0:  # one line, not one per DDP rank
                print(f"interrupted by {name}{where}: {hint}", file=sys.stderr)
            raise SystemExit(128 + self.stopping) from None
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
