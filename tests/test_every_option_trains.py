"""In-process: every option of every group, and the trainer switches, train in smoke mode."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from omegaconf import DictConfig, OmegaConf

from trainrig.config.validate import validate
from trainrig.training.runner import train

from .data_files import write_csv, write_mnist_like, write_multilabel_csv, write_png_tree
from .test_config_tree import ALL_OPTIONS

# Strategies other than `auto` need several processes or GPUs: tests/test_distributed.py runs
# them as real processes, tests/test_gpu_strategies.py on GPUs.
TRAINABLE = [
    (g, n)
    for g, n in ALL_OPTIONS
    if g not in ("experiment", "trainer") and not (g == "strategy" and n != "auto")
]
TRAINER_SWITCHES = [
    "trainer.precision=bf16-mixed",
    "trainer.gradient_clip_val=0.5",
    "trainer.gradient_clip_algorithm=value",
    "trainer.accumulate_grad_batches=2",
    "trainer.deterministic=true",
    "trainer.max_time=00:00:05:00",
    "trainer.val_check_interval=2",
    "trainer.check_val_every_n_epoch=2",
]  # trainer.sync_batchnorm=true needs GPUs: refused on CPUs (test_distributed_bad_input.py)


@pytest.fixture(autouse=True)
def _restore_determinism() -> Iterator[None]:
    """trainer.deterministic=true turns torch's deterministic mode on for the whole process;
    later tests in this worker (int8 kernels among them) must not inherit it."""
    import torch

    before = torch.are_deterministic_algorithms_enabled()
    yield
    torch.use_deterministic_algorithms(before)


def _train(compose: Callable[..., DictConfig], run_dir: Path, *overrides: str) -> dict[str, float]:
    cfg = OmegaConf.create(validate(compose("trainer=smoke", *overrides), "train"))
    return train(cfg, run_dir)


def _csv_rows(run_dir: Path) -> list[dict[str, str]]:
    with (run_dir / "csv" / "metrics.csv").open() as f:
        return list(csv.DictReader(f))


def _data_files(group: str, name: str, root: Path) -> list[str]:
    """Overrides pointing a data option at small files written for it (no download)."""
    if (group, name) == ("data", "cifar10"):
        pytest.skip(
            "CIFAR-10's loader checks the MD5 of the real archive; see test_torchvision_datasets"
        )
    if (group, name) in (("data", "diabetes"), ("task", "regression")):
        return ["task=regression", "data=diabetes", "model=mlp", "augmentation=none"]
    if (group, name) == ("task", "multilabel"):
        root.mkdir(parents=True)
        write_multilabel_csv(root / "labels.csv", rows=80)
        return [
            "data=csv",
            f"data.path={root / 'labels.csv'}",
            "data.label_column=[cat,dog]",
            "model=mlp",
            "augmentation=none",
        ]
    if (group, name) == ("task", "lightning_module"):
        pytest.skip("a user's LightningModule: the example projects train it (test_examples.py)")
    if (group, name) == ("data", "csv"):
        root.mkdir(parents=True)
        write_csv(root / "table.csv", rows=60)
        return [
            f"data.path={root / 'table.csv'}",
            "data.label_column=species",
            "model=mlp",
            "augmentation=none",
        ]
    if (group, name) == ("data", "image_folder"):
        write_png_tree(root, per_class=12)
        return [f"data.root={root}", "data.image_size=[8,8]"]
    if (group, name) in (("data", "mnist"), ("data", "fashion_mnist")):
        write_mnist_like(root, "MNIST" if name == "mnist" else "FashionMNIST", train=300, test=60)
        return [f"data.root={root}", "data.download=false"]
    if (group, name) == ("compression", "prune_iterative"):  # a schedule that fits 2 epochs
        return ["compression.start_epoch=0", "compression.steps=1"]
    if (group, name) == ("compression", "distill"):  # a teacher experiment, trained first
        return [
            "compression.teacher_experiment=baseline",
            'compression.teacher_overrides=["trainer=smoke"]',
        ]
    return []


@pytest.mark.parametrize(("group", "name"), TRAINABLE, ids=[f"{g}={n}" for g, n in TRAINABLE])
def test_option_trains_and_tests(
    group: str, name: str, compose_train: Callable[..., DictConfig], tmp_path: Path
) -> None:
    files = _data_files(group, name, tmp_path / "files")
    metrics = _train(compose_train, tmp_path / "run", f"{group}={name}", *files)
    main = {"regression": "mse", "multilabel": "f1"}.get(name if group == "task" else "", "acc")
    main = "mse" if (group, name) == ("data", "diabetes") else main
    assert {f"val/{main}", "val/loss", f"test/{main}", "test/loss"} <= set(metrics)
    # Lightning's fast_dev_run saves no checkpoint: the run tests the weights it ended with
    saves_best = (group, name) != ("debug", "fdr")
    assert (tmp_path / "run" / "checkpoints" / "best.ckpt").is_file() == saves_best


@pytest.mark.parametrize("switch", TRAINER_SWITCHES)
def test_trainer_switch_trains(
    switch: str, compose_train: Callable[..., DictConfig], tmp_path: Path
) -> None:
    metrics = _train(compose_train, tmp_path, switch)
    assert 0.0 <= metrics["test/acc"] <= 1.0


def test_max_steps_limits_optimizer_steps(
    compose_train: Callable[..., DictConfig], tmp_path: Path
) -> None:
    _train(compose_train, tmp_path, "trainer.max_steps=4", "trainer.limit_train_batches=3")
    steps = {int(row["step"]) for row in _csv_rows(tmp_path)}
    assert max(steps) <= 4


@pytest.mark.parametrize("scheduler", ["cosine", "step", "none"])
def test_learning_rate_is_logged(
    scheduler: str, compose_train: Callable[..., DictConfig], tmp_path: Path
) -> None:
    """Every schedule, and none, logs the lr under the one column `train/lr`."""
    _train(compose_train, tmp_path, f"scheduler={scheduler}", "optimizer.lr=0.004")
    rows = _csv_rows(tmp_path)
    assert not [name for name in rows[0] if name.startswith("lr-")]  # Lightning's own naming
    logged = [float(row["train/lr"]) for row in rows if row.get("train/lr")]
    assert logged, rows[0].keys()
    if scheduler == "cosine":  # logged every step, decreasing
        assert len(logged) == 6
        assert logged == sorted(logged, reverse=True)
    if scheduler == "none":  # the lr as set, once an epoch
        epochs = {row["epoch"] for row in rows if row.get("train/loss")}
        assert logged == [0.004] * len(epochs)
