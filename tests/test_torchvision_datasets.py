"""MNIST and Fashion-MNIST through torchvision's real loaders on small IDX files the test writes.

CIFAR-10's loader checks the MD5 of the real archive files, so small files cannot pass it; its
conversion (`as_tensors`) is tested on an object shaped like torchvision's CIFAR10 instead.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from trainrig.config.errors import ConfigError
from trainrig.data.torchvision_datasets import as_tensors, build_torchvision_dataset

from .data_files import write_mnist_like


@pytest.mark.parametrize(
    ("name", "folder"), [("mnist", "MNIST"), ("fashion_mnist", "FashionMNIST")]
)
def test_idx_files_load_split_stratified_and_stay_uint8(
    name: str, folder: str, tmp_path: Path
) -> None:
    write_mnist_like(tmp_path, folder, train=200, test=50)
    data = build_torchvision_dataset(name, root=str(tmp_path), download=False, val_fraction=0.1)
    assert data.split_sizes() == {"train": 180, "val": 20, "test": 50}
    assert data.input_shape == (1, 28, 28)
    assert data.num_outputs == 10
    x, y = data.splits["val"]
    assert x.dtype == torch.uint8
    assert torch.equal(torch.bincount(y, minlength=10), torch.full((10,), 2))
    assert data.to_float(x).max() <= 1.0


def test_missing_files_say_where_they_must_go(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        build_torchvision_dataset("mnist", root=str(tmp_path), download=False)
    message = str(caught.value)
    assert str(tmp_path / "MNIST" / "raw") in message
    assert "set data.download=true" in message


def test_cifar_like_channel_last_arrays_become_channel_first() -> None:
    fake = SimpleNamespace(data=np.zeros((4, 32, 32, 3), dtype=np.uint8), targets=[0, 1, 2, 3])
    x, y = as_tensors(fake)
    assert x.shape == (4, 3, 32, 32)
    assert x.dtype == torch.uint8
    assert y.tolist() == [0, 1, 2, 3]
