"""The task's targets through the csv builder: regression values, multi-hot labels, class
indices (a continuous target refused), and which data builders take the targets."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from hydra.utils import instantiate
from omegaconf import DictConfig

from trainrig.config.errors import ConfigError
from trainrig.config.validate import validate
from trainrig.data.csv_table import build_csv
from trainrig.data.diabetes import build_diabetes
from trainrig.data.digits import build_digits
from trainrig.data.image_folder import build_image_folder
from trainrig.data.targets import accepts_targets

from .data_files import write_csv, write_multilabel_csv, write_regression_csv


def _all(split: dict[str, tuple[torch.Tensor, torch.Tensor]], part: int) -> torch.Tensor:
    return torch.cat([pair[part] for pair in split.values()])


def test_a_continuous_target_gives_float_values_split_at_random(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    write_regression_csv(path, rows=200)
    data = build_csv("values", path=str(path), label_column="y", feature_columns=["a", "b"],
                     val_fraction=0.1, test_fraction=0.2)  # fmt: skip
    assert data.targets == "values" and data.num_outputs == 1
    assert data.input_shape == (2,)
    assert data.split_sizes() == {"train": 140, "val": 20, "test": 40}
    y = _all(data.splits, 1)
    assert y.dtype == torch.float32 and y.shape == (200, 1)
    x = _all(data.splits, 0)  # every row once, its target beside its features
    assert len(torch.unique(x, dim=0)) == 200
    assert torch.allclose(y[:, 0], 3 * x[:, 0] - 2 * x[:, 1], atol=0.5)
    mean, std = data.target_stats()  # type: ignore[misc]
    train_y = data.splits["train"][1]
    assert mean.shape == std.shape == (1,)
    assert torch.allclose(mean, train_y.mean(0)) and torch.allclose(std, train_y.std(0))
    assert not torch.allclose(mean, y.mean(0))  # the training split's, not the whole table's


def test_the_random_split_follows_split_seed(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    write_regression_csv(path, rows=100)
    a, b, c = (build_csv("values", path=str(path), label_column="y", split_seed=s)
               for s in (1, 1, 2))  # fmt: skip
    assert torch.equal(a.splits["test"][1], b.splits["test"][1])
    assert not torch.equal(a.splits["test"][1], c.splits["test"][1])


def test_several_value_columns_are_several_regression_targets(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    write_regression_csv(path, rows=60)
    data = build_csv("values", path=str(path), label_column=["y", "z"])
    assert data.num_outputs == 2 and data.input_shape == (2,)  # a, b: the labels are no features
    x, y = data.splits["train"]
    assert y.shape == (len(x), 2)
    assert torch.allclose(y[:, 1], x.sum(1), atol=1e-4)
    mean, std = data.target_stats()  # type: ignore[misc]
    assert mean.shape == std.shape == (2,)


def test_bad_regression_values_are_refused_with_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("a,y\n1,0.5\n2,inf\n")
    with pytest.raises(ConfigError, match=rf"{path} line 3, column 'y': 'inf' is not a finite"):
        build_csv("values", path=str(path), label_column="y")


def test_two_label_columns_give_multi_hot_labels(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    write_multilabel_csv(path, rows=80)
    data = build_csv("labels", path=str(path), label_column=["cat", "dog"])
    assert data.targets == "labels" and data.num_outputs == 2
    assert data.input_shape == (2,)
    assert data.target_stats() is None
    assert sum(data.split_sizes().values()) == 80
    for x, y in data.splits.values():
        assert y.dtype == torch.float32 and y.shape == (len(x), 2)
        assert torch.equal(y, (x > 0).to(torch.float32))  # cat: a > 0, dog: b > 0


def test_a_label_that_is_not_0_or_1_is_refused_with_file_line_column_and_value(
    tmp_path: Path,
) -> None:
    path = tmp_path / "m.csv"
    path.write_text("a,cat,dog\n0.5,1,0\n0.1,0,1\n0.7,1,yes\n")
    with pytest.raises(ConfigError) as error:
        build_csv("labels", path=str(path), label_column=["cat", "dog"])
    message = str(error.value)
    assert message.startswith(
        f"data.label_column: {path} line 4, column 'dog': 'yes' is not 0 or 1"
    )
    assert "\n" not in message


def test_a_continuous_target_is_refused_for_classification(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    write_regression_csv(path, rows=214)
    with pytest.raises(ConfigError) as error:
        build_csv(path=str(path), label_column="y")
    assert str(error.value) == (
        f"data.label_column: column 'y' of {path} holds 214 distinct numbers, a continuous "
        "target; task=classification would make each one a class: use task=regression"
    )


@pytest.mark.parametrize(
    ("labels", "refused"),
    [
        (["0", "1", "2"] * 10, False),  # few whole numbers: class indices
        ([str(i) for i in range(30)] * 3, True),  # 30 distinct > max(20, 9)
        (["0.5", "1.5"] * 15, True),  # fractions are values, not classes
        (["a", "1.5"] * 15, False),  # not all numbers: names
    ],
)
def test_what_counts_as_a_continuous_target(
    labels: list[str], refused: bool, tmp_path: Path
) -> None:
    path = tmp_path / "t.csv"
    path.write_text("f,label\n" + "".join(f"{i},{y}\n" for i, y in enumerate(labels)))
    if refused:
        with pytest.raises(ConfigError, match="a continuous target"):
            build_csv(path=str(path), label_column="label")
    else:
        assert build_csv(path=str(path), label_column="label").targets == "classes"


def test_several_label_columns_are_refused_for_classification(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    write_multilabel_csv(path, rows=40)
    with pytest.raises(ConfigError, match=r"data.label_column: 2 label columns .* task=multilabel"):
        build_csv(path=str(path), label_column=["cat", "dog"])
    one = build_csv(path=str(path), label_column=["cat"])  # a list of one is that column
    assert one.num_outputs == 2 and one.targets == "classes"
    assert one.splits["train"][1].dtype == torch.int64


def test_class_names_give_int64_indices(tmp_path: Path) -> None:
    path = tmp_path / "flowers.csv"
    write_csv(path, rows=40)
    data = build_csv(path=str(path), label_column="species")
    assert data.targets == "classes" and data.target_stats() is None
    assert data.splits["train"][1].dtype == torch.int64


def test_label_column_is_a_name_or_a_list_of_names(
    tmp_path: Path, compose_train: Callable[..., DictConfig]
) -> None:
    path = tmp_path / "m.csv"
    write_multilabel_csv(path, rows=40)
    csv = ("data=csv", f"data.path={path}")
    values = validate(compose_train(*csv, "data.label_column=[cat,dog]"), "train")
    assert values["data"]["label_column"] == ["cat", "dog"]
    for bad in ("[]", "[cat,'']"):
        with pytest.raises(ConfigError, match=r"data\.label_column: expected a column name or a"):
            validate(compose_train(*csv, f"data.label_column={bad}"), "train")


def test_the_runner_passes_the_targets_first_to_builders_that_take_them(
    tmp_path: Path, compose_train: Callable[..., DictConfig]
) -> None:
    assert accepts_targets(build_csv) and accepts_targets(build_diabetes)
    assert not accepts_targets(build_digits) and not accepts_targets(build_image_folder)
    assert not accepts_targets(len) and not accepts_targets(lambda targets: targets)
    path = tmp_path / "m.csv"
    write_multilabel_csv(path, rows=40)
    cfg = compose_train("data=csv", f"data.path={path}", "data.label_column=[cat,dog]")
    data = instantiate(cfg.data, "labels")  # as the runner calls it
    assert data.targets == "labels" and data.num_outputs == 2
