"""Early stopping on a scripted metric sequence; restore_best leaves the best epoch's weights."""

from __future__ import annotations

from pathlib import Path

import pytest
import pytorch_lightning as pl
import torch
from pytorch_lightning.callbacks import ModelCheckpoint
from torch.utils.data import DataLoader, TensorDataset

from trainrig.training.callbacks.early_stopping import EarlyStopping

# val/loss per epoch: best at epoch 2, then `patience`=3 epochs without improvement -> stop at 5.
SCRIPT = [5.0, 4.0, 3.0, 3.5, 3.2, 3.1, 1.0, 0.5]


class Scripted(pl.LightningModule):
    """Logs the scripted val/loss; its one weight is set to the epoch index as each epoch ends."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(1))

    def training_step(self, batch: object, batch_idx: int) -> torch.Tensor:
        return (self.weight * 0).sum()

    def on_train_epoch_end(self) -> None:
        with torch.no_grad():
            self.weight.fill_(self.current_epoch)

    def validation_step(self, batch: object, batch_idx: int) -> None:
        self.log("val/loss", SCRIPT[self.current_epoch])

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=0.0)


def _fit(tmp_path: Path, restore_best: bool) -> tuple[Scripted, EarlyStopping, ModelCheckpoint]:
    data = DataLoader(TensorDataset(torch.zeros(2, 1)), batch_size=2)
    model = Scripted()
    stopper = EarlyStopping(monitor="val/loss", mode="min", patience=3, restore_best=restore_best)
    best = ModelCheckpoint(dirpath=tmp_path, filename="best", monitor="val/loss", mode="min")
    trainer = pl.Trainer(
        max_epochs=len(SCRIPT),
        callbacks=[stopper, best],
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        default_root_dir=str(tmp_path),
    )
    trainer.fit(model, train_dataloaders=data, val_dataloaders=data)
    return model, stopper, best


@pytest.mark.parametrize("restore_best", [True, False])
def test_stops_at_the_expected_epoch(tmp_path: Path, restore_best: bool) -> None:
    _, stopper, _ = _fit(tmp_path, restore_best)
    assert stopper.stopped_epoch == 5
    assert stopper.best_epoch == 2
    assert stopper.best_score.item() == 3.0


def test_restore_best_leaves_the_best_epochs_weights(tmp_path: Path) -> None:
    model, _, best = _fit(tmp_path, restore_best=True)
    assert model.weight.item() == 2.0
    saved = torch.load(best.best_model_path, weights_only=True)["state_dict"]
    assert torch.equal(saved["weight"], model.weight.detach())


def test_without_restore_best_the_last_weights_stay(tmp_path: Path) -> None:
    model, _, _ = _fit(tmp_path, restore_best=False)
    assert model.weight.item() == 5.0
