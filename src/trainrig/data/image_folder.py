"""Images in class sub-folders, like Keras' `flow_from_directory`: in memory or streamed."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from annotated_types import Ge, Gt

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

    from trainrig.data.modules import ClassificationData

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".ppm", ".gif", ".tif", ".tiff", ".webp"}
SPLIT_FOLDERS = {"train": ("train",), "val": ("val", "validation"), "test": ("test",)}
PIL_MODES = {"grayscale": "L", "rgb": "RGB"}
Files = tuple[list[Path], "Tensor"]  # image paths and their class indices


def class_folders(root: Path) -> list[Path]:
    """The sub-folders of `root`, one per class, in alphanumeric order (as Keras orders them)."""
    if not root.is_dir():
        raise ConfigError(
            f"data.root: no folder at {root}; set data.root=FOLDER, a folder with one "
            "sub-folder of images per class"
        )
    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not folders:
        raise ConfigError(
            f"data.root: {root} has no class sub-folders (expected {root}/CLASS/*.png)"
        )
    return folders


def list_images(root: Path, classes: list[str]) -> Files:
    """Every image file under root/CLASS/, checked to open as an image (header only)."""
    from PIL import Image, UnidentifiedImageError

    paths: list[Path] = []
    labels: list[int] = []
    for label, name in enumerate(classes):
        folder = root / name
        files = sorted(p for p in folder.glob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            kinds = ", ".join(sorted(IMAGE_SUFFIXES))
            raise ConfigError(f"data.root: class folder {folder} holds no images ({kinds})")
        for path in files:
            try:
                Image.open(path).close()
            except (UnidentifiedImageError, OSError) as error:
                raise ConfigError(f"data.root: cannot read image {path}: {error}") from None
        paths += files
        labels += [label] * len(files)
    import torch

    return paths, torch.tensor(labels)


def read_image(path: Path, size: tuple[int, int], color_mode: str) -> Tensor:
    """One image as uint8 (C, H, W), resized to `size` (height, width)."""
    import numpy as np
    import torch
    from PIL import Image

    from trainrig.data.in_memory import with_channel_axis

    try:
        with Image.open(path) as image:
            pixels = image.convert(PIL_MODES[color_mode]).resize(
                size[::-1], Image.Resampling.BILINEAR
            )
            array = np.asarray(pixels, dtype=np.uint8)
    except OSError as error:
        raise ConfigError(f"data.root: cannot read image {path}: {error}") from None
    return with_channel_axis(torch.from_numpy(array.copy())[None])[0]


def _read_nth(paths: list[Path], size: tuple[int, int], color_mode: str, index: int) -> Tensor:
    """Image `index` of `paths` (a picklable reader for loader worker processes)."""
    return read_image(paths[index], size, color_mode)


def _split_folders(root: Path) -> dict[str, Path]:
    """{'train': root/train, 'val': root/validation, ...} when root holds split folders."""
    found = {}
    for split, names in SPLIT_FOLDERS.items():
        for name in names:
            if (root / name).is_dir():
                found[split] = root / name
    return found if "train" in found else {}


def _split_files(
    base: Path, classes: list[str], val_fraction: float, test_fraction: float, seed: int
) -> dict[str, Files]:
    """Files per split: from split folders where present, else held out of train, stratified."""
    import torch

    from trainrig.data.splits import stratified_holdout, stratified_split

    folders = _split_folders(base)
    paths, labels = list_images(folders.get("train", base), classes)
    index = torch.arange(len(paths))
    if not folders:
        parts = stratified_split(index, labels, val_fraction, test_fraction, seed)
        named = zip(SPLIT_FOLDERS, parts, strict=True)
        return {k: ([paths[i] for i in part[0]], part[1]) for k, part in named}
    held: dict[str, Files] = {}
    rest = (index, labels)
    for split, fraction in (("test", test_fraction), ("val", val_fraction)):
        if split in folders:
            held[split] = list_images(folders[split], classes)
        else:
            rest, (taken, taken_labels) = stratified_holdout(*rest, fraction, seed)
            held[split] = ([paths[i] for i in taken], taken_labels)
    return {"train": ([paths[i] for i in rest[0]], rest[1]), **held}


def _image_folder_rule(**options: Any) -> None:
    stats_and_fractions(**options)
    if len(options["image_size"]) != 2:
        raise ConfigError(f"data.image_size is [height, width]; got {options['image_size']}")


@option("data", rule=_image_folder_rule)
def build_image_folder(
    root: str,
    image_size: Sequence[Annotated[int, Ge(1)]] = (32, 32),
    color_mode: Literal["rgb", "grayscale"] = "rgb",
    batch_size: BatchSize = 32,
    val_fraction: Fraction = 0.15,
    test_fraction: Fraction = 0.15,
    normalize: bool = True,
    rescale: Rescale = 1 / 255,
    mean: Mean = None,
    std: Std = None,
    split_seed: Seed = 0,
    storage: Literal["auto", "memory", "stream"] = "auto",
    memory_limit_mb: Annotated[float, Gt(0)] = 2048.0,
    num_workers: Annotated[int, Ge(0)] = 2,
) -> ClassificationData:
    """root/CLASS/*.png split by fraction, or root/{train,val|validation,test}/CLASS/*.png.

    Class names and order come from the training folder. `storage: auto` decodes every image
    into memory when they fit in `memory_limit_mb` as uint8, and streams them through
    `num_workers` loader workers otherwise; `memory` or `stream` force one or the other. Every
    image is resized to `image_size` ([height, width]). Without val/test folders,
    `val_fraction` and `test_fraction` are held out of train.
    """
    import torch

    from trainrig.data.in_memory import InMemoryDataModule
    from trainrig.data.sample_dataset import SampleDataset
    from trainrig.data.streaming import StreamingDataModule

    base, size = Path(root), (int(image_size[0]), int(image_size[1]))
    classes = [p.name for p in class_folders(_split_folders(base).get("train", base))]
    files = _split_files(base, classes, val_fraction, test_fraction, split_seed)
    channels = 1 if color_mode == "grayscale" else 3
    total_mb = sum(len(p) for p, _ in files.values()) * channels * size[0] * size[1] / 2**20
    read = partial(read_image, size=size, color_mode=color_mode)
    stats = (normalize, rescale, mean, std)
    module: ClassificationData
    if storage == "memory" or (storage == "auto" and total_mb <= memory_limit_mb):
        splits = {k: (torch.stack([read(p) for p in paths]), y) for k, (paths, y) in files.items()}
        module = InMemoryDataModule(
            splits["train"], splits["val"], splits["test"], len(classes), batch_size, *stats
        )
    else:
        datasets = {
            k: SampleDataset(partial(_read_nth, paths, size, color_mode), y)
            for k, (paths, y) in files.items()
        }
        shape = (channels, *size)
        module = StreamingDataModule(datasets, shape, len(classes), batch_size, num_workers, *stats)
    module.output_names = classes
    kind = type(module).__name__
    log.info("image folder %s: classes %s, %s, %s", root, classes, module.split_sizes(), kind)
    return module
