"""MNIST, Fashion-MNIST and CIFAR-10 through torchvision's own loaders, held in memory as uint8."""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Any, Literal

from trainrig.config.errors import ConfigError
from trainrig.config.signature import option
from trainrig.data.option_rules import (
    BatchSize,
    Fraction,
    Mean,
    Rescale,
    Seed,
    Std,
    stats_and_fractions,
)

if TYPE_CHECKING:
    from torch import Tensor

    from trainrig.data.in_memory import InMemoryDataModule

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
    import torch

    from trainrig.data.in_memory import with_channel_axis

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


@option("data", rule=stats_and_fractions)
def build_torchvision_dataset(
    name: Literal["mnist", "fashion_mnist", "cifar10"],
    root: str = "data",
    download: bool = True,
    batch_size: BatchSize = 128,
    val_fraction: Fraction = 0.1,
    normalize: bool = True,
    rescale: Rescale = 1 / 255,
    mean: Mean = None,
    std: Std = None,
    split_seed: Seed = 0,
) -> InMemoryDataModule:
    """The official train set, split stratified into train/val (`val_fraction` held out), and the
    official test set. Files go to `root` (see `expected_location`); `download` false uses only
    files already there. `rescale` 1/255 maps uint8 pixels to [0, 1] on the device."""
    from trainrig.data.in_memory import InMemoryDataModule
    from trainrig.data.splits import stratified_holdout

    x, y = as_tensors(_load(name, root, train=True, download=download))
    test = as_tensors(_load(name, root, train=False, download=download))
    train, val = stratified_holdout(x, y, val_fraction, split_seed)
    module = InMemoryDataModule(
        train, val, test, NUM_CLASSES, batch_size, normalize, rescale, mean, std
    )
    log.info("%s: %s samples", name, module.split_sizes())
    return module
