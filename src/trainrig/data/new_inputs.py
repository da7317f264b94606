"""New inputs for `trainrig predict`: a folder of images or a CSV of feature rows, read the way
the checkpoint's training data read its own (image size and colour mode, feature columns).

Inputs stay in their stored form (uint8 pixels, float features); the model applies the data's
`rescale` and its saved normalization itself. Anything of another shape is refused.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trainrig.config.errors import ConfigError
from trainrig.config.signature import builder_for
from trainrig.data.csv_table import build_csv
from trainrig.data.csv_targets import label_columns
from trainrig.data.image_folder import IMAGE_SUFFIXES, PIL_MODES, build_image_folder

if TYPE_CHECKING:
    from torch import Tensor

IMAGE_DIMS = 3  # channels, height, width
COLOR_MODES = {1: "grayscale", 3: "rgb"}


@dataclass(frozen=True)
class NewInputs:
    """One id per sample (a file path, a row number), the stored inputs and, where the file
    gives them, each sample's target texts (a CSV's label columns)."""

    ids: list[str]
    x: Tensor
    target_texts: list[list[str]] | None


def read_new_inputs(path: Path, data: Any, input_shape: tuple[int, ...], targets: str) -> NewInputs:
    """The samples at `path` (a folder of images or a CSV) for a model trained on the data
    node `data` whose samples have `input_shape`; `targets` is the task's kind of targets."""
    if path.is_dir():
        return _images(path, data, input_shape)
    if path.is_file() and path.suffix.lower() in (".csv", ".tsv", ".txt"):
        return _csv_rows(path, data, input_shape, targets)
    raise ConfigError(
        f"input: no folder of images or CSV file at {path}; pass input=FOLDER (images) or "
        "input=FILE.csv (the training CSV's feature columns), or leave it out to predict a split"
    )


def _images(folder: Path, data: Any, input_shape: tuple[int, ...]) -> NewInputs:
    import torch

    if len(input_shape) != IMAGE_DIMS or input_shape[0] not in COLOR_MODES:
        raise ConfigError(
            f"input: {folder} is a folder of images, but the checkpoint's model takes samples "
            f"of shape {input_shape}, not images: pass input=FILE.csv, or predict a split"
        )
    files = sorted(
        p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
    )
    if not files:
        kinds = ", ".join(sorted(IMAGE_SUFFIXES))
        raise ConfigError(f"input: {folder} holds no images ({kinds})")
    if builder_for(str(data.get("_target_"))) is build_image_folder:
        size, mode, resize = tuple(data.image_size), str(data.color_mode), True  # as trained
    else:
        size, mode, resize = input_shape[1:], COLOR_MODES[input_shape[0]], False
    x = torch.stack([_image(p, (int(size[0]), int(size[1])), mode, resize) for p in files])
    return NewInputs([str(p.relative_to(folder)) for p in files], x, None)


def _image(path: Path, size: tuple[int, int], mode: str, resize: bool) -> Tensor:
    """One image as uint8 (C, H, W): resized to `size` as training did, or refused when its
    size is not `size`."""
    import numpy as np
    import torch
    from PIL import Image

    from trainrig.data.in_memory import with_channel_axis

    try:
        with Image.open(path) as image:
            pixels = image.convert(PIL_MODES[mode])
            if resize:
                pixels = pixels.resize(size[::-1], Image.Resampling.BILINEAR)
            array = np.asarray(pixels, dtype=np.uint8)
    except OSError as error:
        raise ConfigError(f"input: cannot read image {path}: {error}") from None
    if array.shape[:2] != size:
        raise ConfigError(
            f"input: {path} is {array.shape[0]}x{array.shape[1]} pixels (height x width), but "
            f"the checkpoint's model takes {size[0]}x{size[1]} {mode} images: resize them first"
        )
    return with_channel_axis(torch.from_numpy(array.copy())[None])[0]


def _csv_rows(path: Path, data: Any, input_shape: tuple[int, ...], targets: str) -> NewInputs:
    import torch

    if builder_for(str(data.get("_target_"))) is not build_csv:
        raise ConfigError(
            f"input: {path} is a CSV of feature rows, but the checkpoint's model was trained on "
            f"{data.get('_target_')} (samples of shape {input_shape}): pass input=FOLDER of "
            "images, or predict a split"
        )
    labels = label_columns(data.label_column, targets)  # type: ignore[arg-type]
    features = _feature_columns(data, labels)
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f, delimiter=str(data.delimiter))
        columns = list(reader.fieldnames or [])
        wanted = f"the {len(features)} feature columns {', '.join(features)}"
        if missing := [c for c in features if c not in columns]:
            raise ConfigError(
                f"input: {path} lacks the column(s) {', '.join(missing)}; the checkpoint's "
                f"model takes {wanted} (and the label column may be there too)"
            )
        if extra := [c for c in columns if c not in features and c not in labels]:
            raise ConfigError(
                f"input: {path} has column(s) the model was not trained on ({', '.join(extra)});"
                f" it takes {wanted}: remove them"
            )
        rows: list[list[float]] = []
        texts: list[list[str]] = []
        for row in reader:
            rows.append([_number(path, reader.line_num, c, row[c]) for c in features])
            texts.append([row[c] for c in labels if c in row])
    if not rows:
        raise ConfigError(f"input: {path} has a header but no data rows")
    x = torch.tensor(rows, dtype=torch.float32)
    known = all(c in columns for c in labels)
    return NewInputs([str(i) for i in range(len(rows))], x, texts if known else None)


def _feature_columns(data: Any, labels: list[str]) -> list[str]:
    """The training CSV's feature columns: as configured, else every column but the labels."""
    if data.get("feature_columns"):
        return [str(c) for c in data.feature_columns]
    with Path(str(data.path)).open(newline="", encoding="utf-8") as f:
        header = next(csv.reader(f, delimiter=str(data.delimiter)), [])
    return [c for c in header if c not in labels]


def _number(path: Path, line: int, column: str, text: str | None) -> float:
    try:
        return float(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ConfigError(
            f"input: {path} line {line}, column {column!r}: {text!r} is not a number"
        ) from None
