"""Small data files in the formats trainrig's loaders read, written by the tests themselves."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
from PIL import Image

IDX_IMAGES_MAGIC = 2051
IDX_LABELS_MAGIC = 2049


def write_idx(path: Path, array: np.ndarray, magic: int) -> None:
    """An IDX file (MNIST's format): big-endian magic, dimensions, then the uint8 values."""
    header = struct.pack(f">I{array.ndim}I", magic, *array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def write_mnist_like(root: Path, folder: str, train: int, test: int, seed: int = 0) -> None:
    """`root/folder/raw/` with train and t10k image and label files of random 28x28 digits."""
    raw = root / folder / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    for prefix, count in (("train", train), ("t10k", test)):
        labels = np.arange(count) % 10
        images = rng.integers(0, 256, size=(count, 28, 28))
        write_idx(raw / f"{prefix}-images-idx3-ubyte", images, IDX_IMAGES_MAGIC)
        write_idx(raw / f"{prefix}-labels-idx1-ubyte", labels, IDX_LABELS_MAGIC)


PNG_CLASSES = ("cat", "dog", "owl")


def write_png_tree(root: Path, per_class: int, size: tuple[int, int] = (12, 10)) -> None:
    """root/CLASS/i.png with per-class colour so the classes are learnable."""
    for label, name in enumerate(PNG_CLASSES):
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            pixels = np.full((*size, 3), 60 * label + i, dtype=np.uint8)
            Image.fromarray(pixels).save(root / name / f"{i}.png")


def write_csv(path: Path, rows: int) -> None:
    """sepal,petal,species rows of two separable species."""
    lines = ["sepal,petal,species"]
    for i in range(rows):
        species = ("setosa", "virginica")[i % 2]
        lines.append(f"{i % 7 + (5 if species == 'virginica' else 0)},{i % 3},{species}")
    path.write_text("\n".join(lines) + "\n")


def write_regression_csv(path: Path, rows: int, seed: int = 0) -> None:
    """a,b,y,z rows: y = 3a - 2b + noise and z = a + b, continuous targets of two features."""
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=rows), rng.normal(size=rows)
    y, z = 3 * a - 2 * b + 0.1 * rng.normal(size=rows), a + b
    lines = ["a,b,y,z", *(f"{a[i]:.6f},{b[i]:.6f},{y[i]:.6f},{z[i]:.6f}" for i in range(rows))]
    path.write_text("\n".join(lines) + "\n")


def write_multilabel_csv(path: Path, rows: int, seed: int = 0) -> None:
    """a,cat,b,dog rows: label cat is a > 0, label dog is b > 0 (0/1 columns between features)."""
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=rows), rng.normal(size=rows)
    lines = ["a,cat,b,dog", *(f"{a[i]:.6f},{int(a[i] > 0)},{b[i]:.6f},{int(b[i] > 0)}"
                              for i in range(rows))]  # fmt: skip
    path.write_text("\n".join(lines) + "\n")
