"""The 8x8 digits that ship inside scikit-learn, as a LightningDataModule of the project's own."""

from __future__ import annotations

from typing import Any

import pytorch_lightning as pl
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch.utils.data import DataLoader, TensorDataset

Loader = DataLoader[tuple[torch.Tensor, ...]]


class DigitsDataModule(pl.LightningDataModule):
    """1,797 grey 8x8 images (1, 8, 8), pixel values scaled to [0, 1], ten classes; the
    train/val/test split is stratified and seeded by `split_seed`. Batches are (images, labels)."""

    num_classes = 10  # what trainrig's built-in tasks read to size a model's output

    def __init__(
        self,
        batch_size: int = 64,
        val_fraction: float = 0.15,
        test_fraction: float = 0.15,
        split_seed: int = 0,
    ) -> None:
        super().__init__()
        self.batch_size = batch_size
        self.val_fraction = val_fraction
        self.test_fraction = test_fraction
        self.split_seed = split_seed
        self.splits: dict[str, TensorDataset] = {}

    def setup(self, stage: str | None = None) -> None:
        if self.splits:
            return
        digits = load_digits()
        x = torch.tensor(digits.images / 16.0, dtype=torch.float32).unsqueeze(1)
        y = torch.tensor(digits.target, dtype=torch.long)
        held_out = self.val_fraction + self.test_fraction
        x_train, x_rest, y_train, y_rest = self._split(x, y, held_out)
        x_val, x_test, y_val, y_test = self._split(x_rest, y_rest, self.test_fraction / held_out)
        self.splits = {
            "train": TensorDataset(x_train, y_train),
            "val": TensorDataset(x_val, y_val),
            "test": TensorDataset(x_test, y_test),
        }

    def _split(self, x: torch.Tensor, y: torch.Tensor, fraction: float) -> list[Any]:
        return train_test_split(  # type: ignore[no-any-return]
            x, y, test_size=fraction, stratify=y, random_state=self.split_seed
        )

    def train_dataloader(self) -> Loader:
        return DataLoader(self.splits["train"], batch_size=self.batch_size, shuffle=True)

    def val_dataloader(self) -> Loader:
        return DataLoader(self.splits["val"], batch_size=256)

    def test_dataloader(self) -> Loader:
        return DataLoader(self.splits["test"], batch_size=256)
