"""Bad input through the real CLI: exit status 2, one message naming the key and the way out,
no traceback, and no run directory left behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import CliRunner

# (id, arguments, text the error message must contain)
BAD_TRAIN_OVERRIDES = [
    ("unknown-option", ["model=foo"], "model=foo: no such option; choose one of cnn, mlp"),
    ("unknown-key", ["model.chanels=3"], "model.chanels: unknown key"),
    ("added-unknown-key", ["+model.foo=1"], "model.foo: unknown key. Allowed keys: channels,"),
    ("unknown-top-level-key", ["+foo=1"], "foo: unknown key. Allowed keys: task_name, seed"),
    ("negative-lr", ["optimizer.lr=-1"], "optimizer.lr: must be > 0, got -1.0"),
    ("lr-not-a-number", ["optimizer.lr=abc"], "optimizer.lr: expected float, got 'abc'"),
    ("zero-epochs", ["trainer.max_epochs=0"], "trainer.max_epochs: must be >= 1, got 0"),
    ("fractional-epochs", ["trainer.max_epochs=1.5"], "trainer.max_epochs: expected int"),
    ("dropout-above-1", ["model.dropout=1.5"], "model.dropout: must be < 1, got 1.5"),
    ("bad-mode", ["early_stopping.mode=up"], "early_stopping.mode: 'up' is not allowed; choose"),
    (
        "deleted-label-column",
        ["data=csv", "~data.label_column"],
        "data.label_column: a value is required",
    ),
    (
        "unlogged-monitor",
        ["early_stopping.monitor=val/accuracy"],
        "early_stopping.monitor: val/accuracy will not be logged; task=classification with "
        "metrics ['acc'] logs val/loss, val/acc, train/loss, train/acc",
    ),
    (
        "unknown-objective",
        ["optimized_metric=val/f1"],
        "optimized_metric: val/f1 is not among a finished run's metrics; choose from val/loss, "
        "val/acc",
    ),
    (
        "unknown-metric",
        ["metrics=[acc,r2]"],
        "metrics.r2: task=classification has no metric 'r2'; choose from acc, f1, precision",
    ),
    (
        "mode-against-metric",
        [
            "task=regression",
            "data=diabetes",
            "model=mlp",
            "augmentation=none",
            "checkpoint.monitor=val/r2",
            "checkpoint.mode=min",
        ],
        "checkpoint.mode: val/r2 is better high, but checkpoint.mode=min; set checkpoint.mode=max",
    ),
    (
        "no-data-left-to-train",
        ["data.val_fraction=0.6", "data.test_fraction=0.5"],
        "data.val_fraction + data.test_fraction must be < 1",
    ),
    (
        "nesterov-without-momentum",
        ["optimizer=sgd", "optimizer.momentum=0"],
        "optimizer.nesterov=true needs optimizer.momentum > 0",
    ),
    ("unknown-precision", ["trainer.precision=8"], "trainer.precision: '8' is not allowed"),
    ("no-conv-blocks", ["model.channels=[]"], "model.channels must list at least one"),
    ("zero-width-block", ["model.channels=[32,0]"], "model.channels: must be >= 1, got 0"),
    ("negative-seed", ["seed=-3"], "seed: must be >= 0, got -3"),
    ("unknown-accelerator", ["trainer.accelerator=quantum"], "choose one of auto, cpu, gpu"),
    ("not-a-bool", ["model.batch_norm=maybe"], "model.batch_norm: expected bool, got 'maybe'"),
    ("zero-batch-size", ["data.batch_size=0"], "data.batch_size: must be >= 1, got 0"),
    (
        "unknown-activation",
        ["model=mlp", "model.activation=swish"],
        "model.activation: 'swish' is not allowed; choose one of relu, gelu",
    ),
    ("zoom-range-reversed", ["augmentation.zoom_range=[1.2,0.8]"], "low <= high"),
    ("zoom-range-too-big", ["augmentation.zoom_range=1.5"], "zoom_range is a fraction below 1"),
    (
        "unknown-fill-mode",
        ["augmentation.fill_mode=wrap"],
        "'wrap' is not allowed; choose one of constant, nearest, reflect",
    ),
    ("half-given-stats", ["data.mean=[0.5]"], "data.mean and data.std go together"),
    ("override-syntax", ["optimizer.lr=["], "no viable alternative at input"),
    (
        "prune-all",
        ["compression=prune_global", "compression.amount=1.0"],
        "compression.amount: must be < 1, got 1.0",
    ),
    (
        "prune-negative",
        ["compression=prune_l1", "compression.amount=-0.1"],
        "compression.amount: must be >= 0",
    ),
    (
        "prune-method",
        ["compression=prune_global", "compression.method=magic"],
        "compression.method: 'magic' is not allowed; choose one of global_l1, l1, random",
    ),
    (
        "iterative-pruning-past-the-last-epoch",
        ["compression=prune_iterative", "trainer.max_epochs=5"],
        "compression: the last pruning step ends epoch 10 (start_epoch + (steps - 1) * "
        "every_n_epochs, counted from 0), so trainer.max_epochs=5 leaves no epoch to train",
    ),
    (
        "compression-objective-without-compression",
        ["optimized_metric=[val/acc,compression/nonzero_parameters]"],
        "optimized_metric: compression/nonzero_parameters is a figure of the compressed model, "
        "but compression=none; choose a compression option",
    ),
    (
        "onnx-latency-objective-without-export",
        [
            "compression=prune_channels",
            "optimized_metric=compression/onnxruntime_latency_ms_batch1",
        ],
        "optimized_metric: compression/onnxruntime_latency_ms_batch1 is measured on the model's "
        "ONNX export; add compression.export=onnx",
    ),
    ("qat-epochs", ["compression=quantize_qat", "compression.qat_epochs=0"], "must be >= 1"),
]


def _files_under(path: Path) -> list[Path]:
    return [p for p in path.rglob("*") if p.is_file()] if path.exists() else []


def _assert_clean_rejection(result: object, expected: str, cwd: Path) -> None:
    stderr = result.stderr  # type: ignore[attr-defined]
    assert result.returncode == 2, stderr  # type: ignore[attr-defined]
    assert expected in stderr
    assert "trainrig: error: " in stderr
    assert "Traceback" not in stderr
    assert _files_under(cwd / "outputs") == []


@pytest.mark.parametrize(
    ("args", "expected"),
    [case[1:] for case in BAD_TRAIN_OVERRIDES],
    ids=[case[0] for case in BAD_TRAIN_OVERRIDES],
)
def test_bad_train_override_is_rejected(
    args: list[str], expected: str, trainrig_cli: CliRunner, tmp_path: Path
) -> None:
    result = trainrig_cli("train", *args, cwd=tmp_path)
    _assert_clean_rejection(result, expected, tmp_path)


def test_malformed_yaml_in_an_experiment_names_file_and_line(
    trainrig_cli: CliRunner, tmp_path: Path
) -> None:
    (tmp_path / "experiments").mkdir()
    broken = tmp_path / "experiments" / "broken.yaml"
    broken.write_text("# @package _global_\nmodel:\n  channels: [1\n  x: 2\n")
    result = trainrig_cli("train", "experiment=broken", cwd=tmp_path)
    _assert_clean_rejection(result, f'in "{broken}", line 3', tmp_path)


def test_unknown_experiment_lists_the_committed_ones(
    trainrig_cli: CliRunner, tmp_path: Path
) -> None:
    (tmp_path / "experiments").mkdir()
    (tmp_path / "experiments" / "mine.yaml").write_text("# @package _global_\nseed: 1\n")
    result = trainrig_cli("train", "experiment=nope", cwd=tmp_path)
    _assert_clean_rejection(
        result,
        "experiment=nope: no such option; choose one of mine (or add your own as "
        "./experiments/nope.yaml",
        tmp_path,
    )


def test_experiment_without_an_experiments_folder(trainrig_cli: CliRunner, tmp_path: Path) -> None:
    result = trainrig_cli("train", "experiment=nope", cwd=tmp_path)
    _assert_clean_rejection(result, "experiment: there is no ./experiments folder in", tmp_path)


def test_user_option_without_target_is_rejected(trainrig_cli: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "conf" / "model").mkdir(parents=True)
    (tmp_path / "conf" / "model" / "bad.yaml").write_text("# No target.\nchannels: [8]\n")
    result = trainrig_cli("train", "model=bad", cwd=tmp_path)
    _assert_clean_rejection(result, "model: an option needs `_target_`", tmp_path)


ALL_CONV_MODEL = """
import torch


def build(input_shape, num_classes):
    \"\"\"Convolutions down to one value per class: no nn.Linear anywhere.\"\"\"
    return torch.nn.Sequential(
        torch.nn.Conv2d(input_shape[0], num_classes, 3, padding=1),
        torch.nn.AdaptiveAvgPool2d(1),
        torch.nn.Flatten(),
    )
"""


def test_dynamic_quantization_of_a_model_without_linear_layers_is_refused_before_training(
    trainrig_cli: CliRunner, tmp_path: Path
) -> None:
    (tmp_path / "all_conv_model.py").write_text(ALL_CONV_MODEL)
    (tmp_path / "conf" / "model").mkdir(parents=True)
    (tmp_path / "conf" / "model" / "all_conv.yaml").write_text(
        "# Convolutions only.\n_target_: all_conv_model.build\n_partial_: true\n"
    )
    result = trainrig_cli(
        "train", "model=all_conv", "compression=quantize_dynamic",
        cwd=tmp_path,
    )  # fmt: skip
    _assert_clean_rejection(
        result,
        "compression=quantize_dynamic: the model has no nn.Linear layer, the only kind dynamic "
        "quantization covers here; use compression=quantize_static (conv nets) or a pruning option",
        tmp_path,
    )
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Epoch" not in result.stdout  # refused before training started


def test_compress_refuses_pruning_that_happens_during_training(
    trainrig_cli: CliRunner, tmp_path: Path
) -> None:
    result = trainrig_cli(
        "compress", "ckpt_path=some/best.ckpt", "compression=prune_iterative", cwd=tmp_path
    )
    _assert_clean_rejection(
        result,
        "compression=prune_iterative prunes while training, not a trained checkpoint",
        tmp_path,
    )


def test_eval_without_ckpt_path(trainrig_cli: CliRunner, tmp_path: Path) -> None:
    result = trainrig_cli("eval", cwd=tmp_path)
    _assert_clean_rejection(result, "ckpt_path: a value is required (set ckpt_path=...)", tmp_path)


def test_eval_with_missing_checkpoint_names_the_path(
    trainrig_cli: CliRunner, tmp_path: Path
) -> None:
    result = trainrig_cli("eval", "ckpt_path=no/such/best.ckpt", cwd=tmp_path)
    _assert_clean_rejection(result, "ckpt_path: no checkpoint file at no/such/best.ckpt", tmp_path)


def test_eval_with_a_file_that_is_not_a_checkpoint(trainrig_cli: CliRunner, tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.ckpt"
    garbage.write_bytes(b"this is not a checkpoint")
    result = trainrig_cli("eval", f"ckpt_path={garbage}", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert f"ckpt_path: cannot read {garbage} as a checkpoint" in result.stderr
    assert "Traceback" not in result.stderr
    assert not any(p.name == "metrics.json" for p in _files_under(tmp_path / "outputs"))


def test_unknown_command(trainrig_cli: CliRunner, tmp_path: Path) -> None:
    result = trainrig_cli("fly", cwd=tmp_path)
    assert result.returncode == 2
    commands = "train, eval, predict, lr-find, compress, resume, list, report"
    expected = f"unknown command 'fly'; choose one of {commands}"
    assert expected in result.stderr


def test_list_unknown_group(trainrig_cli: CliRunner, tmp_path: Path) -> None:
    result = trainrig_cli("list", "modle", cwd=tmp_path)
    assert result.returncode == 2
    assert "unknown config group 'modle'; choose one of augmentation," in result.stderr


def test_full_traceback_when_asked(trainrig_cli: CliRunner, tmp_path: Path) -> None:
    result = trainrig_cli("train", "optimizer.lr=-1", cwd=tmp_path, env={"HYDRA_FULL_ERROR": "1"})
    assert result.returncode != 0
    assert "Traceback" in result.stderr
    assert "optimizer.lr: must be > 0" in result.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["model=torchvision", "model.name=inception_v3"],
            "model=torchvision does not fit inputs of shape (1, 8, 8)",
        ),
        (
            ["data=mnist", "data.root=nowhere", "data.download=false"],
            "data.root: no mnist files at",
        ),
        (["data=image_folder", "data.root=nowhere"], "data.root: no folder at nowhere"),
    ],
    ids=["model-does-not-fit-the-images", "missing-mnist-files", "missing-image-folder"],
)
def test_bad_input_found_while_building_leaves_no_run(
    args: list[str], expected: str, trainrig_cli: CliRunner, tmp_path: Path
) -> None:
    result = trainrig_cli("train", *args, cwd=tmp_path)
    _assert_clean_rejection(result, expected, tmp_path)
