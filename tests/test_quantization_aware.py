"""`compression=quantize_qat`: fake-quant fine-tuning, then int8, on real digits training."""

from __future__ import annotations

import copy
import io
import json
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from torch import nn

from trainrig.compression.quantization_aware import QuantizationAwareTraining
from trainrig.config.errors import ConfigError
from trainrig.models.cnn import build_cnn

from .conftest import CliRunner


def _train(model: nn.Module, x: torch.Tensor, y: torch.Tensor, epochs: int, lr: float) -> None:
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    for _ in range(epochs):
        for start in range(0, len(x), 64):
            loss = F.cross_entropy(model(x[start : start + 64]), y[start : start + 64])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def _saved_bytes(model: nn.Module) -> int:
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    return len(buffer.getvalue())


def test_int8_outputs_stay_close_to_the_fine_tuned_float_ones() -> None:
    torch.manual_seed(0)
    digits = load_digits()
    x = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1) / 16
    y = torch.tensor(digits.target)
    train, probe = slice(0, 1400), x[1400:1600]
    model = build_cnn((1, 8, 8), 10)
    _train(model, x[train], y[train], epochs=2, lr=1e-3)
    method = QuantizationAwareTraining()
    prepared = method.prepared(copy.deepcopy(model), x[:64])
    _train(prepared, x[train], y[train], epochs=1, lr=1e-4)  # with fake quantization
    quantized = method.quantized(prepared)
    with torch.no_grad():
        int8_logits = quantized(probe)
        torch.ao.quantization.disable_fake_quant(prepared.eval())
        float_logits = prepared(probe)  # the same fine-tuned weights, in float
    similarity = F.cosine_similarity(float_logits, int8_logits, dim=1)
    assert similarity.min().item() >= 0.99
    assert _saved_bytes(quantized) <= 0.3 * _saved_bytes(model)


def test_qat_after_training_shrinks_the_cnn_and_reports_its_accuracy(
    trainrig_cli: CliRunner, tmp_path: Path
) -> None:
    result = trainrig_cli(
        "train", "trainer=smoke", "trainer.max_epochs=4", "trainer.limit_train_batches=null",
        "trainer.limit_val_batches=null", "trainer.limit_test_batches=null",
        "compression=quantize_qat", "compression.qat_epochs=2", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (run,) = (tmp_path / "outputs" / "train" / "runs").iterdir()
    report = json.loads((run / "compression.json").read_text())
    before, after = report["before"], report["after"]
    assert after["dense_bytes"] <= 0.3 * before["dense_bytes"]
    assert after["test/acc"] >= before["test/acc"] - 0.03
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["compression/test_acc"] == after["test/acc"]
    assert metrics["compression/dense_bytes"] == after["dense_bytes"]


def test_a_torch_without_fx_quantization_is_refused_naming_the_way_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A torch release that dropped torch.ao.quantization.quantize_fx: the import fails.
    monkeypatch.setitem(sys.modules, "torch.ao.quantization.quantize_fx", None)
    model = build_cnn((1, 8, 8), 10)
    with pytest.raises(ConfigError, match="compression=quantize_qat needs") as caught:
        QuantizationAwareTraining().check(model, torch.zeros(2, 1, 8, 8))
    assert "use compression=quantize_dynamic or a pruning option" in str(caught.value)
