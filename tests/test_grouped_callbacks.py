"""CallbackGroup: one Lightning dispatch per hook for several small callbacks, each member's hooks
called as often as on its own, each member's state under its own key, old checkpoints restored."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from pytorch_lightning.callbacks import ModelCheckpoint, Timer
from torch.utils.data import DataLoader, TensorDataset

from trainrig.training.callbacks.group import CallbackGroup, callbacks_of
from trainrig.training.callbacks.random_state import RandomStateInCheckpoint


class Linear(pl.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(1, 1)

    def training_step(self, batch: list[torch.Tensor], batch_idx: int) -> torch.Tensor:
        return self.layer(batch[0]).pow(2).mean()

    def validation_step(self, batch: list[torch.Tensor], batch_idx: int) -> None:
        self.log("val/loss", self.layer(batch[0]).pow(2).mean())

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=0.1)


class Counts(pl.Callback):
    """Counts the calls of the hooks it overrides."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()

    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        self.calls["setup"] += 1

    def on_train_batch_end(self, trainer: pl.Trainer, *args: Any) -> None:
        self.calls["on_train_batch_end"] += 1

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.calls["on_validation_end"] += 1

    def teardown(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        self.calls["teardown"] += 1


class DrawAtStart(pl.Callback):
    """Draws a number from torch's global generator as training starts (after any restore)."""

    def __init__(self) -> None:
        self.drawn: float | None = None

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.drawn = float(torch.rand(1))


def _fit(tmp_path: Path, callbacks: list[pl.Callback], epochs: int, resume: Path | None) -> None:
    data = DataLoader(TensorDataset(torch.ones(4, 1)), batch_size=2)
    trainer = pl.Trainer(
        max_epochs=epochs, callbacks=callbacks, logger=False, enable_progress_bar=False,
        enable_checkpointing=any(isinstance(c, ModelCheckpoint) for c in callbacks),
        enable_model_summary=False, num_sanity_val_steps=0, default_root_dir=str(tmp_path),
    )  # fmt: skip
    trainer.fit(Linear(), train_dataloaders=data, val_dataloaders=data, ckpt_path=resume)


def test_members_see_each_hook_once_and_unused_hooks_stay_no_ops(tmp_path: Path) -> None:
    alone, grouped = Counts(), Counts()
    group = CallbackGroup([grouped, RandomStateInCheckpoint()])
    _fit(tmp_path, [alone, group], epochs=2, resume=None)
    assert alone.calls == {
        "setup": 1, "on_train_batch_end": 4, "on_validation_end": 2, "teardown": 1,
    }  # fmt: skip
    assert grouped.calls == alone.calls
    assert sorted(group.hooked) == sorted(alone.calls)  # the others: Callback's own no-ops
    assert type(group).on_validation_start is pl.Callback.on_validation_start
    assert "on_validation_start" not in vars(group)


def test_each_members_state_under_its_key_and_an_old_checkpoint_restores_it(
    tmp_path: Path,
) -> None:
    """A checkpoint holds the random state in the group's entry, under the member's key; a
    checkpoint written before the group (the state at the member's own key) resumes with the
    same random state as the new layout, not with the generator as it happened to be."""
    saving = ModelCheckpoint(dirpath=tmp_path, filename="last")
    _fit(tmp_path, [saving, CallbackGroup([RandomStateInCheckpoint()])], epochs=1, resume=None)
    new = tmp_path / "last.ckpt"
    checkpoint = torch.load(new, weights_only=True)
    states = checkpoint["callbacks"]
    assert set(states["CallbackGroup"]) == {"RandomStateInCheckpoint"}
    assert "RandomStateInCheckpoint" not in states
    states["RandomStateInCheckpoint"] = states.pop("CallbackGroup")["RandomStateInCheckpoint"]
    old = tmp_path / "old.ckpt"
    torch.save(checkpoint, old)

    def drawn_on_resume(path: Path, members: list[pl.Callback]) -> float | None:
        torch.manual_seed(1234)  # the generator elsewhere than the checkpoint left it
        draw = DrawAtStart()
        _fit(tmp_path / path.stem, [CallbackGroup([*members, draw])], epochs=2, resume=path)
        return draw.drawn

    from_new = drawn_on_resume(new, [RandomStateInCheckpoint()])
    from_old = drawn_on_resume(old, [RandomStateInCheckpoint()])
    unrestored = drawn_on_resume(new, [])
    assert from_new is not None and from_new == from_old
    assert unrestored != from_new


def test_callbacks_of_finds_members_and_loose_callbacks_in_order() -> None:
    first, second, loose = Timer(), Timer(), Timer()
    random_state = RandomStateInCheckpoint()
    found = callbacks_of([CallbackGroup([first, random_state, second]), Counts(), loose], Timer)
    assert found == [first, second, loose]
    assert callbacks_of([CallbackGroup([random_state])], RandomStateInCheckpoint) == [random_state]
