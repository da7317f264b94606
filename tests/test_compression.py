"""The `compression` group through real training runs: pruning, quantization, the report."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from omegaconf import OmegaConf

from trainrig.compression.distillation import distillation_loss
from trainrig.compression.quantization import DynamicQuantization
from trainrig.models.mlp import build_mlp
from trainrig.training.callbacks.config_in_checkpoint import CONFIG_KEY

from .conftest import REPO_ROOT, CliRunner


def _compressed_run(trainrig_cli: CliRunner, cwd: Path, *overrides: str) -> Path:
    result = trainrig_cli("train", "trainer=smoke", *overrides, cwd=cwd)
    assert result.returncode == 0, result.stderr
    (run,) = (cwd / "outputs" / "train" / "runs").iterdir()
    assert "Compression" in result.stdout
    return run


def _layer_weights(run: Path) -> dict[str, torch.Tensor]:
    """The conv and linear weights of the saved compressed model."""
    state = torch.load(run / "checkpoints" / "compressed.pt", weights_only=True)
    return {k: v for k, v in state.items() if k.endswith("weight") and v.dim() >= 2}


def test_global_pruning_zeroes_the_requested_share_and_fine_tuning_keeps_it(
    trainrig_cli: CliRunner, tmp_path: Path
) -> None:
    run = _compressed_run(
        trainrig_cli, tmp_path, "compression=prune_global", "compression.finetune_epochs=2"
    )
    weights = _layer_weights(run)
    zeros = sum(int((w == 0).sum()) for w in weights.values())
    total = sum(w.numel() for w in weights.values())
    assert zeros == round(0.8 * total)  # exactly the amount, after 2 epochs of fine-tuning
    report = json.loads((run / "compression.json").read_text())
    assert report["after"]["nonzero_parameters"] < report["before"]["nonzero_parameters"]
    assert report["after"]["compressed_bytes"] < 0.5 * report["before"]["compressed_bytes"]
    for side in ("before", "after"):
        assert set(report[side]) == {
            "parameters", "nonzero_parameters", "sparsity", "dense_bytes", "compressed_bytes",
            "macs_per_sample", "cpu_latency_ms_batch1", "cpu_latency_ms_per_batch", "test/acc",
        }  # fmt: skip


def test_per_layer_pruning_zeroes_the_amount_of_every_layer(
    trainrig_cli: CliRunner, tmp_path: Path
) -> None:
    run = _compressed_run(
        trainrig_cli, tmp_path, "compression=prune_l1", "compression.finetune_epochs=1"
    )
    for name, weight in _layer_weights(run).items():
        assert int((weight == 0).sum()) == round(0.5 * weight.numel()), name


def test_structured_pruning_zeroes_whole_output_channels(
    trainrig_cli: CliRunner, tmp_path: Path
) -> None:
    run = _compressed_run(
        trainrig_cli, tmp_path, "compression=prune_structured", "compression.finetune_epochs=1"
    )
    for name, weight in _layer_weights(run).items():
        channels = weight.flatten(1)
        empty = int((channels.abs().sum(dim=1) == 0).sum())
        assert empty == round(0.3 * weight.shape[0]), name


def test_dynamic_quantization_shrinks_linear_layers_and_keeps_the_outputs(
    trainrig_cli: CliRunner, tmp_path: Path
) -> None:
    run = _compressed_run(trainrig_cli, tmp_path, "model=mlp", "compression=quantize_dynamic")
    report = json.loads((run / "compression.json").read_text())
    assert report["after"]["dense_bytes"] <= 0.35 * report["before"]["dense_bytes"]
    assert report["after"]["parameters"] == report["before"]["parameters"]


def test_quantized_outputs_stay_close_to_float_outputs() -> None:
    torch.manual_seed(0)
    model = build_mlp((1, 8, 8), 10).eval()
    batch = torch.rand(64, 1, 8, 8)
    quantized = DynamicQuantization().quantized(model)
    similarity = torch.nn.functional.cosine_similarity(model(batch), quantized(batch), dim=1)
    assert float(similarity.min()) >= 0.99
    assert not any(isinstance(m, torch.nn.Linear) for m in quantized.modules())


def test_compress_command_compresses_a_trained_checkpoint_without_retraining(
    trainrig_cli: CliRunner, tmp_path: Path
) -> None:
    whole_test_split = "trainer.limit_test_batches=1.0"
    trained = trainrig_cli("train", "trainer=smoke", whole_test_split, "model=mlp", cwd=tmp_path)
    assert trained.returncode == 0, trained.stderr
    (run,) = (tmp_path / "outputs" / "train" / "runs").iterdir()
    test_acc = json.loads((run / "metrics.json").read_text())["test/acc"]
    result = trainrig_cli(
        "compress", f"ckpt_path={run / 'checkpoints' / 'best.ckpt'}",
        "compression=quantize_dynamic", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (compressed,) = (tmp_path / "outputs" / "compress" / "runs").iterdir()
    report = json.loads((compressed / "compression.json").read_text())
    assert abs(report["before"]["test/acc"] - test_acc) < 1e-6  # the checkpoint's own weights
    assert report["after"]["dense_bytes"] < report["before"]["dense_bytes"]
    assert (compressed / "checkpoints" / "compressed.pt").is_file()


def test_distillation_loss_matches_its_formula_on_known_logits() -> None:
    student = torch.tensor([[2.0, 0.0, -1.0], [0.5, 0.5, 3.0]])
    teacher = torch.tensor([[1.0, 1.0, 0.0], [0.0, 2.0, 4.0]])
    temperature = 2.0
    p = torch.softmax(teacher / temperature, dim=1)
    q = torch.softmax(student / temperature, dim=1)
    expected = float((p * (p.log() - q.log())).sum(dim=1).mean()) * temperature**2
    assert float(distillation_loss(student, teacher, temperature)) == pytest.approx(expected)
    assert float(distillation_loss(teacher, teacher, temperature)) == pytest.approx(0.0, abs=1e-7)


def _trained_teacher(trainrig_cli: CliRunner, cwd: Path) -> Path:
    cwd.mkdir()
    result = trainrig_cli("train", "trainer=smoke", cwd=cwd)
    assert result.returncode == 0, result.stderr
    (run,) = (cwd / "outputs" / "train" / "runs").iterdir()
    return run / "checkpoints" / "best.ckpt"


def test_a_distilled_student_logs_both_losses_and_saves_without_its_teacher(
    trainrig_cli: CliRunner, tmp_path: Path
) -> None:
    teacher = _trained_teacher(trainrig_cli, tmp_path / "teacher")
    student = _compressed_run(
        trainrig_cli, tmp_path, "model=mlp", "model.hidden_sizes=[16]", "compression=distill",
        f"compression.teacher_ckpt={teacher}",
    )  # fmt: skip
    header = (student / "csv" / "metrics.csv").read_text().splitlines()[0].split(",")
    assert {"train/loss", "train/distill_loss"} <= set(header)
    state = torch.load(student / "checkpoints" / "best.ckpt", weights_only=True)["state_dict"]
    assert not any("teacher" in key for key in state)
    report = json.loads((student / "compression.json").read_text())
    assert report["after"]["parameters"] * 8 <= report["before"]["parameters"]  # vs the teacher
    evaluated = trainrig_cli(
        "eval", f"ckpt_path={student / 'checkpoints' / 'best.ckpt'}", cwd=tmp_path
    )
    assert evaluated.returncode == 0, evaluated.stderr


def test_a_teacher_whose_weights_do_not_fit_its_config_is_refused_before_training(
    trainrig_cli: CliRunner, tmp_path: Path
) -> None:
    teacher = _trained_teacher(trainrig_cli, tmp_path / "teacher")
    checkpoint = torch.load(teacher, weights_only=True)
    checkpoint[CONFIG_KEY]["model"]["channels"] = [8, 16]  # the config no longer describes them
    torch.save(checkpoint, teacher)
    result = trainrig_cli(
        "train", "compression=distill", f"compression.teacher_ckpt={teacher}", cwd=tmp_path
    )
    assert result.returncode == 2
    assert "compression.teacher_ckpt: the weights in" in result.stderr
    assert "do not fit the model its config describes" in result.stderr
    assert not (tmp_path / "outputs" / "train" / "runs").exists() or not any(
        (tmp_path / "outputs" / "train" / "runs").iterdir()
    )


def test_static_quantization_of_the_cnn_shrinks_it_and_keeps_its_accuracy_close(
    trainrig_cli: CliRunner, tmp_path: Path
) -> None:
    run = _compressed_run(trainrig_cli, tmp_path, "compression=quantize_static")
    report = json.loads((run / "compression.json").read_text())
    assert report["after"]["dense_bytes"] <= 0.35 * report["before"]["dense_bytes"]
    assert abs(report["after"]["test/acc"] - report["before"]["test/acc"]) <= 0.03


def test_onnx_export_matches_torch_within_1e_4(trainrig_cli: CliRunner, tmp_path: Path) -> None:
    pytest.importorskip("onnxruntime")
    run = _compressed_run(
        trainrig_cli, tmp_path, "compression=prune_global", "compression.finetune_epochs=1",
        "compression.export=onnx",
    )  # fmt: skip
    report = json.loads((run / "compression.json").read_text())
    assert report["onnx"]["max_abs_diff"] <= 1e-4
    assert (run / "model.onnx").stat().st_size > 10_000


def test_a_teacher_experiment_trains_on_the_students_split(
    trainrig_cli: CliRunner, tmp_path: Path
) -> None:
    shutil.copytree(REPO_ROOT / "experiments", tmp_path / "experiments")
    result = trainrig_cli(
        "train", "model=mlp", "compression=distill", "compression.teacher_experiment=baseline",
        "compression.teacher_overrides=['trainer=smoke']", "trainer=smoke", "seed=3",
        "hydra.run.dir=run", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    teacher = OmegaConf.load(tmp_path / "run" / "teacher" / "config.yaml")
    assert (teacher.seed, teacher.data.split_seed) == (3, 3)  # baseline itself says seed 42
