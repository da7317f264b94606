"""Images in class sub-folders, like Keras' `flow_from_directory`, loaded once into memory."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from trainrig.data.in_memory import InMemoryDataModule, Split, with_channel_axis
from trainrig.data.splits import stratified_holdout, stratified_split
from trainrig.errors import ConfigError

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".ppm", ".gif", ".tif", ".tiff", ".webp"}
SPLIT_FOLDERS = {"train": ("train",), "val": ("val", "validation"), "test": ("test",)}
PIL_MODES = {"grayscale": "L", "rgb": "RGB"}


def class_folders(root: Path) -> list[Path]:
    """The sub-folders of `root`, one per class, in alphanumeric order (as Keras orders them)."""
    if not root.is_dir():
        raise ConfigError(f"data.root: no folder at {root}")
    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not folders:
        raise ConfigError(
            f"data.root: {root} has no class sub-folders (expected {root}/CLASS/*.png)"
        )
    return folders


def load_images(
    root: Path, classes: list[str], size: tuple[int, int], color_mode: str
) -> tuple[Tensor, Tensor]:
    """Every image under root/CLASS/ resized to `size` (height, width), as uint8 (N, C, H, W)."""
    from PIL import Image, UnidentifiedImageError

    images, labels = [], []
    for label, name in enumerate(classes):
        folder = root / name
        files = sorted(p for p in folder.glob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            kinds = ", ".join(sorted(IMAGE_SUFFIXES))
            raise ConfigError(f"data.root: class folder {folder} holds no images ({kinds})")
        for path in files:
            try:
                with Image.open(path) as image:
                    pixels = image.convert(PIL_MODES[color_mode]).resize(
                        size[::-1], Image.Resampling.BILINEAR
                    )
                    images.append(np.asarray(pixels, dtype=np.uint8))
            except (UnidentifiedImageError, OSError) as error:
                raise ConfigError(f"data.root: cannot read image {path}: {error}") from None
            labels.append(label)
    return with_channel_axis(torch.from_numpy(np.stack(images))), torch.tensor(labels)


def _split_folders(root: Path) -> dict[str, Path]:
    """{'train': root/train, 'val': root/validation, ...} when root holds split folders."""
    found = {}
    for split, names in SPLIT_FOLDERS.items():
        for name in names:
            if (root / name).is_dir():
                found[split] = root / name
    return found if "train" in found else {}


def _given_or_held_out(
    train: Split,
    folders: dict[str, Path],
    classes: list[str],
    size: tuple[int, int],
    color_mode: str,
    val_fraction: float,
    test_fraction: float,
    seed: int,
) -> tuple[Split, Split, Split]:
    """Val and test from their folders where present, else held out of train by fraction."""
    if "test" in folders:
        test = load_images(folders["test"], classes, size, color_mode)
    else:
        train, test = stratified_holdout(*train, test_fraction, seed)
    if "val" in folders:
        val = load_images(folders["val"], classes, size, color_mode)
    else:
        train, val = stratified_holdout(*train, val_fraction, seed)
    return train, val, test


def build_image_folder(
    root: str,
    image_size: Sequence[int] = (32, 32),
    color_mode: str = "rgb",
    batch_size: int = 32,
    val_fraction: float = 0.15,
    test_fraction: float = 0.15,
    normalize: bool = True,
    rescale: float = 1 / 255,
    mean: Sequence[float] | None = None,
    std: Sequence[float] | None = None,
    split_seed: int = 0,
) -> InMemoryDataModule:
    """root/CLASS/*.png split by fraction, or root/{train,val|validation,test}/CLASS/*.png.

    Class names and order come from the training folder; a missing val or test folder is held
    out of train by fraction, stratified.
    """
    base, size = Path(root), (int(image_size[0]), int(image_size[1]))
    folders = _split_folders(base)
    train_root = folders.get("train", base)
    classes = [p.name for p in class_folders(train_root)]
    x, y = load_images(train_root, classes, size, color_mode)
    if folders:
        train, val, test = _given_or_held_out(
            (x, y), folders, classes, size, color_mode, val_fraction, test_fraction, split_seed
        )
    else:
        train, val, test = stratified_split(x, y, val_fraction, test_fraction, split_seed)
    module = InMemoryDataModule(
        train, val, test, len(classes), batch_size, normalize, rescale, mean, std
    )
    log.info("image folder %s: classes %s, %s", root, classes, module.split_sizes())
    return module
