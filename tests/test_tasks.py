"""The task group: regression and multi-label reach stated figures, metrics chosen by name, a
user's LightningModule and data module, and the refusals that come before training."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from omegaconf import DictConfig, OmegaConf
from sklearn.linear_model import Ridge
from sklearn.metrics import r2_score

from trainrig.config.errors import ConfigError
from trainrig.config.validate import validate
from trainrig.data.diabetes import build_diabetes
from trainrig.tasks.catalog import CATALOG, higher_is_better
from trainrig.training.runner import train

from .data_files import write_multilabel_csv

Compose = Callable[..., DictConfig]
USER = "tests.user_code.modules"
FAST = ("trainer=smoke",)  # tests.user_code is this project's own code: allowed


def _user_module(module: str = "LinearModule", data: str = "Blobs") -> list[str]:
    """Overrides that swap in a LightningModule and a data module of the user's code."""
    return [
        "task=lightning_module",
        "~model",
        f"+model={{_target_:{USER}.{module}}}",
        "~data",
        f"+data={{_target_:{USER}.{data}}}",
    ]


def _train(compose: Compose, run_dir: Path, *overrides: str) -> dict[str, float]:
    cfg = OmegaConf.create(validate(compose(*FAST, *overrides), "train"))
    return train(cfg, run_dir)


def test_every_catalog_metric_has_a_direction_and_r2_is_better_high() -> None:
    assert higher_is_better("val/r2", "regression") is True
    assert higher_is_better("val/mse", "regression") is False
    assert higher_is_better("val/loss", "lightning_module") is False
    assert higher_is_better("val/hits", "lightning_module") is None  # the user's: unknown
    for kind, metrics in CATALOG.items():
        for name in metrics:
            assert higher_is_better(f"val/{name}", kind) is not None


@pytest.mark.parametrize(
    ("overrides", "monitor", "mode", "objective"),
    [
        ((), "val/acc", "max", "val/acc"),
        (("task=regression",), "val/mse", "min", "val/mse"),
        (("task=regression", "metrics=[r2,mae]"), "val/r2", "max", "val/r2"),
        (("task=multilabel",), "val/f1", "max", "val/f1"),
        (("checkpoint.monitor=val/loss",), "val/loss", "min", "val/loss"),
        (("task=lightning_module",), "val/loss", "min", "val/loss"),
    ],
)
def test_monitor_mode_and_objective_follow_the_task(
    compose_train: Compose, overrides: tuple[str, ...], monitor: str, mode: str, objective: str
) -> None:
    cfg = compose_train(*overrides)
    values = validate(cfg, "train")
    assert values["checkpoint"] == {"monitor": monitor, "mode": mode}
    assert values["optimized_metric"] == objective
    if cfg.get("early_stopping"):  # early stopping follows the checkpoint
        assert (values["early_stopping"]["monitor"], values["early_stopping"]["mode"]) == (
            monitor,
            mode,
        )


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            ("task=regression", "checkpoint.monitor=val/acc"),
            "checkpoint.monitor: val/acc will not be logged; task=regression with metrics "
            "['mse', 'mae', 'r2'] logs val/loss, val/mse, val/mae, val/r2",
        ),
        (("metrics=[acc,mse]",), "metrics.mse: task=classification has no metric 'mse'"),
        (
            ("+metrics.top3={metric:top,top_k:3}",),
            "metrics.top3.metric: task=classification has no metric 'top'",
        ),
        (
            ("task=regression", "checkpoint.monitor=val/r2", "checkpoint.mode=min"),
            "checkpoint.mode: val/r2 is better high, but checkpoint.mode=min",
        ),
        (
            ("task=lightning_module", "checkpoint.monitor=val/hits"),
            "checkpoint.mode: trainrig cannot know whether val/hits is better high or low",
        ),
        (("task=lightning_module", "metrics=[acc]"), "metrics: task=lightning_module logs what"),
        (("optimized_metric=test/r2",), "optimized_metric: test/r2 is not among"),
    ],
)
def test_metric_choices_the_task_will_not_log_are_refused(
    compose_train: Compose, overrides: tuple[str, ...], message: str
) -> None:
    with pytest.raises(ConfigError) as error:
        validate(compose_train(*overrides), "train")
    assert message in str(error.value)


def test_regression_on_diabetes_beats_a_linear_model(
    compose_train: Compose, tmp_path: Path
) -> None:
    """The committed experiment reaches test R2 >= 0.45 (0.487 measured) where scikit-learn's
    Ridge reaches 0.449 on the same split (seed 42: train fit, standardized features)."""
    cfg = OmegaConf.create(validate(compose_train("experiment=diabetes_regression"), "train"))
    metrics = train(cfg, tmp_path)
    data = build_diabetes(split_seed=cfg.seed)
    standardize = data.normalization()
    x = {k: standardize(data.to_float(x)).numpy() for k, (x, _) in data.splits.items()}
    y = {k: y.numpy().ravel() for k, (_, y) in data.splits.items()}
    ridge = r2_score(y["test"], Ridge(alpha=1.0).fit(x["train"], y["train"]).predict(x["test"]))
    assert metrics["test/r2"] >= 0.45
    assert metrics["test/r2"] > ridge
    assert {"val/mse", "val/mae", "val/r2", "test/mse", "test/mae"} <= set(metrics)


def test_multilabel_csv_reaches_f1(compose_train: Compose, tmp_path: Path) -> None:
    """Two labels (a > 0, b > 0) among the features: macro F1 >= 0.9 on the test split."""
    write_multilabel_csv(tmp_path / "labels.csv", rows=400)
    metrics = _train(
        compose_train,
        tmp_path / "run",
        "task=multilabel",
        "data=csv",
        f"data.path={tmp_path / 'labels.csv'}",
        "data.label_column=[cat,dog]",
        "model=mlp",
        "augmentation=none",
        "trainer.max_epochs=15",
        "trainer.limit_train_batches=1.0",
    )
    assert metrics["test/f1"] >= 0.9
    assert 0.0 <= metrics["test/acc"] <= 1.0


def test_a_metric_chosen_with_arguments_is_logged_under_its_own_name(
    compose_train: Compose, tmp_path: Path
) -> None:
    metrics = _train(
        compose_train, tmp_path, "+metrics.top3={metric:acc,top_k:3}", "+metrics.f1={}"
    )
    assert metrics["test/top3"] >= metrics["test/f1"] - 1.0  # both there, as numbers
    assert metrics["test/top3"] >= 0.0 and {"val/top3", "val/f1"} <= set(metrics)


def test_a_metric_argument_torchmetrics_refuses_fails_before_training(
    compose_train: Compose, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError, match=r"metrics\.acc: MulticlassAccuracy\(nope=1\) is refused"):
        _train(compose_train, tmp_path, "+metrics={acc:{nope:1}}")
    assert not (tmp_path / "checkpoints").exists()


def test_a_users_lightning_module_trains_with_the_configs_optimizer(
    compose_train: Compose, tmp_path: Path
) -> None:
    metrics = _train(
        compose_train,
        tmp_path,
        *_user_module(),
        "checkpoint.monitor=val/hits",
        "checkpoint.mode=max",
        "trainer.max_epochs=4",
        "optimizer.lr=0.05",
    )
    assert metrics["val/hits"] >= 0.8  # two well-separated blobs
    assert "test/hits" in metrics and (tmp_path / "checkpoints" / "best.ckpt").is_file()


def test_a_users_module_without_test_step_trains_and_is_not_tested(
    compose_train: Compose, tmp_path: Path
) -> None:
    metrics = _train(compose_train, tmp_path, *_user_module("NoTest"))
    assert "val/loss" in metrics and not any(name.startswith("test/") for name in metrics)


def test_a_users_data_module_feeds_a_built_in_task(compose_train: Compose, tmp_path: Path) -> None:
    metrics = _train(
        compose_train,
        tmp_path,
        "~data",
        f"+data={{_target_:{USER}.Blobs}}",
        "~model",
        f"+model={{_target_:{USER}.build_linear,_partial_:true}}",
        "augmentation=none",
        "trainer.max_epochs=20",
        "trainer.limit_train_batches=1.0",
        "optimizer.lr=0.05",
    )
    assert metrics["test/acc"] >= 0.8


def test_pruning_compresses_a_users_module_judged_by_its_own_test_metric(
    compose_train: Compose, tmp_path: Path
) -> None:
    metrics = _train(
        compose_train,
        tmp_path,
        *_user_module("LinearWithForward"),
        "compression=prune_global",
        "compression.finetune_epochs=1",
        "optimized_metric=compression/test_hits",
        "trainer.max_epochs=3",
    )
    assert 0.0 <= metrics["compression/test_hits"] <= 1.0
    assert metrics["compression/sparsity"] >= 0.5  # prune_global's amount 0.8 of the weights
    assert (tmp_path / "compression.json").is_file()


def test_a_users_module_exports_to_onnx(compose_train: Compose, tmp_path: Path) -> None:
    metrics = _train(
        compose_train, tmp_path, *_user_module("LinearWithForward"), "compression=export_onnx"
    )
    report = json.loads((tmp_path / "compression.json").read_text())
    assert (tmp_path / report["onnx"]["file"]).is_file() and report["onnx"]["max_abs_diff"] < 1e-4
    assert metrics["compression/test_hits"] == pytest.approx(metrics["test/hits"], abs=1e-6)


def test_dynamic_quantization_of_a_regression_reports_its_r2(
    compose_train: Compose, tmp_path: Path
) -> None:
    metrics = _train(
        compose_train,
        tmp_path,
        "experiment=diabetes_regression",
        "compression=quantize_dynamic",
        "optimized_metric=compression/test_r2",
    )
    assert abs(metrics["compression/test_r2"] - metrics["test/r2"]) < 0.1  # int8 Linear layers
    assert metrics["compression/compressed_bytes"] < metrics["compression/dense_bytes"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            ["task=regression", "data=diabetes", "model=mlp", "augmentation=none",
             "compression=quantize_static"],
            "compression: quantize_static works on trainrig's single-label classifier",
        ),
        (
            [*_user_module(), "compression=prune_global"],
            "compression: LinearModule has no forward(); compression measures, quantizes and "
            "exports a module through forward(inputs)",
        ),
        (
            _user_module("NoValidation"),
            "checkpoint.monitor: val/loss is a validation metric, but NoValidation has no "
            "validation_step",
        ),
        (
            [*_user_module(), "checkpoint.monitor=val/f1", "checkpoint.mode=max"],
            "checkpoint.monitor: val/f1 was not logged by LinearModule; it logged train/loss, "
            "train/lr, val/hits, val/loss",
        ),
        (
            [*_user_module(), "optimized_metric=val/f1"],
            "optimized_metric: val/f1 was not logged by LinearModule; it logged train/loss, "
            "train/lr, val/hits, val/loss",
        ),
        (
            [*_user_module(), "augmentation=basic"],
            "augmentation: trainrig's image augmentation works on its own tasks'",
        ),
        (
            ["~data", f"+data={{_target_:{USER}.DictBlobs}}", "model=mlp", "augmentation=none"],
            "data: DictBlobs's batches are dict, not (inputs, targets) tensors",
        ),
        (
            ["~data", f"+data={{_target_:{USER}.Blobs}}", "model=mlp"],
            "augmentation: the data gives samples of shape (4,) with classes as targets, not "
            "images",
        ),
        (
            [
                "task=lightning_module",
                "~model",
                "+model={_target_:torch.nn.Linear,in_features:4,out_features:2}",
            ],
            "model._target_: task=lightning_module needs a LightningModule, but torch.nn.Linear "
            "built a Linear; for a plain nn.Module builder choose task=classification",
        ),
        (
            [*_user_module(), f"model._target_={USER}.build_linear", "+model._partial_=true"],
            "model._partial_: task=lightning_module builds your module with the node's own",
        ),
    ],
    ids=["classifier-only-compression", "compression-without-forward", "no-validation-step",
         "unlogged-own-metric", "unlogged-objective", "augmentation", "dict-batches",
         "augmentation-on-features", "not-a-module", "partial-module"],
)  # fmt: skip
def test_user_code_that_does_not_fit_is_refused_with_the_way_out(
    compose_train: Compose, tmp_path: Path, overrides: list[str], message: str
) -> None:
    with pytest.raises(ConfigError) as error:
        _train(compose_train, tmp_path, *overrides)
    assert message in str(error.value)
