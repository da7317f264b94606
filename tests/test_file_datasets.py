"""Image folders (Keras' flow_from_directory) and CSV tables, on small files the tests write."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from omegaconf import DictConfig, OmegaConf
from torch import nn

from trainrig.config.errors import ConfigError
from trainrig.config.validate import validate
from trainrig.data.csv_table import build_csv
from trainrig.data.image_folder import build_image_folder
from trainrig.data.in_memory import InMemoryDataModule
from trainrig.data.streaming import StreamingDataModule
from trainrig.models.cnn import build_cnn
from trainrig.training.build import build_data, build_module
from trainrig.training.runner import train

from .data_files import write_csv, write_png_tree


def test_flat_folder_is_split_by_fraction_and_resized(tmp_path: Path) -> None:
    write_png_tree(tmp_path, per_class=20)
    data = build_image_folder(str(tmp_path), image_size=[8, 6], color_mode="rgb")
    assert data.input_shape == (3, 8, 6)
    assert data.num_outputs == 3
    assert sum(data.split_sizes().values()) == 60
    assert data.splits["train"][0].dtype == torch.uint8
    for _, y in data.splits.values():
        counts = torch.bincount(y, minlength=3)
        assert counts.max() - counts.min() <= 1  # stratified


def test_split_folders_are_used_as_they_are(tmp_path: Path) -> None:
    write_png_tree(tmp_path / "train", per_class=10)
    write_png_tree(tmp_path / "validation", per_class=2)
    write_png_tree(tmp_path / "test", per_class=3)
    data = build_image_folder(str(tmp_path), image_size=[8, 8], color_mode="grayscale")
    assert data.split_sizes() == {"train": 30, "val": 6, "test": 9}
    assert data.input_shape == (1, 8, 8)


def test_missing_val_folder_is_held_out_of_train(tmp_path: Path) -> None:
    write_png_tree(tmp_path / "train", per_class=10)
    write_png_tree(tmp_path / "test", per_class=3)
    data = build_image_folder(str(tmp_path), image_size=[8, 8], val_fraction=0.2)
    assert data.split_sizes() == {"train": 24, "val": 6, "test": 9}


def test_image_folder_bad_input(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no folder at"):
        build_image_folder(str(tmp_path / "nowhere"))
    write_png_tree(tmp_path / "tree", per_class=4)
    (tmp_path / "tree" / "empty").mkdir()
    with pytest.raises(ConfigError, match=r"class folder .*empty holds no images"):
        build_image_folder(str(tmp_path / "tree"))
    (tmp_path / "tree" / "empty").rmdir()
    broken = tmp_path / "tree" / "dog" / "broken.png"
    broken.write_bytes(b"not a png")
    with pytest.raises(ConfigError, match=f"cannot read image {broken}"):
        build_image_folder(str(tmp_path / "tree"))


def test_csv_features_labels_and_stratified_splits(tmp_path: Path) -> None:
    path = tmp_path / "flowers.csv"
    write_csv(path, rows=40)
    data = build_csv(path=str(path), label_column="species")
    assert data.input_shape == (2,)
    assert data.num_outputs == 2
    assert sum(data.split_sizes().values()) == 40
    mean, std = data.normalization_stats()
    assert mean.shape == std.shape == (1, 2)
    only_petal = build_csv(path=str(path), label_column="species", feature_columns=["petal"])
    assert only_petal.input_shape == (1,)


def test_csv_bad_input(tmp_path: Path) -> None:
    path = tmp_path / "flowers.csv"
    write_csv(path, rows=10)
    with pytest.raises(ConfigError, match="has no column 'kind'; its columns are sepal, petal"):
        build_csv(path=str(path), label_column="kind")
    with pytest.raises(ConfigError, match=r"data.feature_columns: .* has no column 'leaf'"):
        build_csv(path=str(path), label_column="species", feature_columns=["leaf"])
    with pytest.raises(ConfigError, match="no CSV file at"):
        build_csv(path=str(tmp_path / "none.csv"), label_column="species")
    path.write_text("sepal,species\n1,a\nbig,b\n")
    with pytest.raises(ConfigError, match="line 3, column 'sepal': 'big' is not a number"):
        build_csv(path=str(path), label_column="species")


def test_image_model_on_tabular_data_names_the_way_out() -> None:
    with pytest.raises(ConfigError, match=r"model=cnn needs image inputs .* use model=mlp"):
        build_cnn((4,), 3)


def test_image_augmentation_on_tabular_data_names_the_way_out(
    tmp_path: Path, compose_train: Callable[..., DictConfig]
) -> None:
    write_csv(tmp_path / "t.csv", rows=30)
    cfg = compose_train(
        "data=csv", f"data.path={tmp_path / 't.csv'}", "data.label_column=species", "model=mlp"
    )
    cfg = OmegaConf.create(OmegaConf.to_container(cfg, resolve=True))
    with pytest.raises(ConfigError, match=r"not images with class labels; .* augmentation=none"):
        build_module(cfg, build_data(cfg))


@pytest.mark.parametrize(
    ("options", "kind"),
    [
        ({"storage": "stream"}, StreamingDataModule),
        ({"storage": "memory"}, InMemoryDataModule),
        ({"storage": "auto", "memory_limit_mb": 0.001}, StreamingDataModule),
        ({"storage": "auto"}, InMemoryDataModule),
    ],
)
def test_storage_is_chosen_by_size_with_an_override(
    options: dict[str, Any], kind: type, tmp_path: Path
) -> None:
    write_png_tree(tmp_path, per_class=10)
    data = build_image_folder(str(tmp_path), image_size=[8, 8], **options)
    assert type(data) is kind
    assert data.split_sizes() == {"train": 20, "val": 5, "test": 5}


def test_streamed_and_in_memory_folders_give_the_same_images(tmp_path: Path) -> None:
    write_png_tree(tmp_path, per_class=6)
    streamed = build_image_folder(str(tmp_path), image_size=[8, 8], storage="stream")
    held = build_image_folder(str(tmp_path), image_size=[8, 8], storage="memory")
    assert isinstance(streamed, StreamingDataModule) and isinstance(held, InMemoryDataModule)
    test = streamed.splits["test"]
    images = torch.stack([test[i][0] for i in range(len(test))])
    assert torch.equal(images, held.splits["test"][0])
    for a, b in zip(streamed.normalization_stats(), held.normalization_stats(), strict=True):
        assert torch.allclose(a, b, atol=1e-5)


def test_streamed_folder_trains_with_per_sample_cpu_augmentation(
    tmp_path: Path, compose_train: Callable[..., DictConfig]
) -> None:
    write_png_tree(tmp_path / "images", per_class=12)
    cfg = compose_train(
        "data=image_folder", f"data.root={tmp_path / 'images'}", "data.image_size=[8,8]",
        "data.storage=stream", "augmentation.backend=per_sample", "augmentation.fill_mode=constant",
        "trainer=smoke",
    )  # fmt: skip
    cfg = OmegaConf.create(validate(cfg, "train"))
    metrics = train(cfg, tmp_path / "run")
    assert 0.0 <= metrics["test/acc"] <= 1.0
    data = build_data(cfg)
    classifier = build_module(cfg, data)
    assert data.train_transform is not None  # the workers augment; the batch step only mixes
    assert isinstance(classifier.augmentation.transforms, nn.Identity)  # type: ignore[union-attr]
    x, _ = next(iter(data.train_dataloader()))
    assert x.dtype == torch.uint8 and x.shape[1:] == (3, 8, 8)
