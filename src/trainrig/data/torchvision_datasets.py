"""MNIST, Fashion-MNIST and CIFAR-10 through torchvision's own loaders, held in memory as uint8."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from trainrig.config.errors import ConfigError
from trainrig.data.in_memory import InMemoryDataModule, with_channel_axis
from trainrig.data.splits import stratified_holdout

log = logging.getLogger(__name__)

# option name -> torchvision.datasets class name
DATASETS = {"mnist": "MNIST", "fashion_mnist": "FashionMNIST", "cifar10": "CIFAR10"}
NUM_CLASSES = 10


def expected_location(name: str, root: str) -> str:
    """Where torchvision looks for the files of data set `name` under `root`."""
    if name == "cifar10":
        return os.path.join(root, "cifar-10-batches-py", "{data_batch_1..5,test_batch}")
    return os.path.join(root, DATASETS[name], "raw", "{train,t10k}-{images-idx3,labels-idx1}-ubyte")


def as_tensors(dataset: Any) -> tuple[Tensor, Tensor]:
    """A torchvision data set's `.data` / `.targets` as (N, C, H, W) uint8 images and labels."""
    images = torch.as_tensor(dataset.data)
    labels = torch.as_tensor(dataset.targets, dtype=torch.long)
    return with_channel_axis(images), labels


def _load(name: str, root: str, train: bool, download: bool) -> Any:
    import torchvision.datasets

    loader = getattr(torchvision.datasets, DATASETS[name])
    try:
        return loader(root, train=train, download=download)
    except RuntimeError as error:  # torchvision: "Dataset not found ..."
        how = "" if download else ", or set data.download=true to fetch them"
        raise ConfigError(
            f"data.root: no {name} files at {expected_location(name, root)} ({error}); "
            f"put the files there{how}"
        ) from None
    except OSError as error:  # the download itself failed
        raise ConfigError(
            f"data.download: fetching {name} failed ({error}); put the files at "
            f"{expected_location(name, root)} and set data.download=false"
        ) from None


def build_torchvision_dataset(
    name: str,
    root: str = "data",
    download: bool = True,
    batch_size: int = 128,
    val_fraction: float = 0.1,
    normalize: bool = True,
    rescale: float = 1 / 255,
    mean: Sequence[float] | None = None,
    std: Sequence[float] | None = None,
    split_seed: int = 0,
) -> InMemoryDataModule:
    """The official train set, split stratified into train/val, and the official test set."""
    if name not in DATASETS:
        raise ConfigError(f"data.name: {name!r} is not one of {', '.join(DATASETS)}")
    x, y = as_tensors(_load(name, root, train=True, download=download))
    test = as_tensors(_load(name, root, train=False, download=download))
    train, val = stratified_holdout(x, y, val_fraction, split_seed)
    module = InMemoryDataModule(
        train, val, test, NUM_CLASSES, batch_size, normalize, rescale, mean, std
    )
    log.info("%s: %s samples", name, module.split_sizes())
    return module
