"""ONNX export of trainrig's CNN and MLP, checked against onnxruntime (the `onnx` extra)."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from torch import nn

from trainrig.config.errors import ConfigError
from trainrig.models.cnn import build_cnn
from trainrig.models.mlp import build_mlp

INPUT_SHAPE = (1, 8, 8)
NUM_CLASSES = 10
EXPORT_BATCH = 2
CHECK_BATCH = 5  # differs from EXPORT_BATCH: the batch dimension must be dynamic

BUILDERS: dict[str, Callable[[], nn.Sequential]] = {
    "cnn": lambda: build_cnn(INPUT_SHAPE, NUM_CLASSES),
    "mlp": lambda: build_mlp(INPUT_SHAPE, NUM_CLASSES),
}


@pytest.fixture
def onnx_packages() -> None:
    """Skip where the optional ONNX packages are missing."""
    for package in ("onnxruntime", "onnx", "onnxscript"):
        pytest.importorskip(package)


def _trained_like(name: str) -> nn.Sequential:
    """The model with a fixed seed and batch norm statistics far from the (0, 1) defaults.

    Non-trivial running statistics make a train-mode export (batch statistics) differ visibly.
    """
    torch.manual_seed(0)
    model = BUILDERS[name]()
    for module in model.modules():
        if isinstance(module, nn.BatchNorm1d | nn.BatchNorm2d):
            assert module.running_mean is not None and module.running_var is not None
            module.running_mean.uniform_(-1.0, 1.0)
            module.running_var.uniform_(0.5, 2.0)
    return model


def _modes(model: nn.Module) -> list[bool]:
    return [module.training for module in model.modules()]


@pytest.mark.usefixtures("onnx_packages")
@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_exported_model_matches_torch_on_another_batch_size(name: str, tmp_path: Path) -> None:
    from trainrig.compression.onnx_files import check_onnx, export_onnx

    model = _trained_like(name).eval()
    path = tmp_path / f"{name}.onnx"

    assert export_onnx(model, torch.randn(EXPORT_BATCH, *INPUT_SHAPE), path) == path

    assert list(tmp_path.iterdir()) == [path]  # no temporary or external-data file left
    difference = check_onnx(model, path, torch.randn(CHECK_BATCH, *INPUT_SHAPE), atol=1e-4)
    assert 0.0 <= difference <= 1e-4
    assert not any(_modes(model))


@pytest.mark.usefixtures("onnx_packages")
def test_a_training_model_is_exported_in_eval_mode_and_stays_in_training(tmp_path: Path) -> None:
    from trainrig.compression.onnx_files import check_onnx, export_onnx

    model = _trained_like("cnn").train()
    state = {key: value.clone() for key, value in model.state_dict().items()}
    path = export_onnx(model, torch.randn(EXPORT_BATCH, *INPUT_SHAPE), tmp_path / "cnn.onnx")

    assert all(_modes(model))
    for key, value in model.state_dict().items():  # running statistics untouched
        assert torch.equal(value, state[key]), key
    # check_onnx compares with the model in eval mode: running statistics, as exported.
    assert check_onnx(model, path, torch.randn(CHECK_BATCH, *INPUT_SHAPE)) <= 1e-4
    assert all(_modes(model))


@pytest.mark.usefixtures("onnx_packages")
def test_check_onnx_raises_when_the_model_differs(tmp_path: Path) -> None:
    from trainrig.compression.onnx_files import check_onnx, export_onnx

    model = _trained_like("mlp").eval()
    path = export_onnx(model, torch.randn(EXPORT_BATCH, *INPUT_SHAPE), tmp_path / "mlp.onnx")
    head = model[-1]
    assert isinstance(head, nn.Linear)
    with torch.no_grad():
        head.bias.add_(1.0)  # every logit moves by 1

    with pytest.raises(ValueError, match="differs from the torch model by up to 1"):
        check_onnx(model, path, torch.randn(CHECK_BATCH, *INPUT_SHAPE))


def test_without_the_onnx_packages_export_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for package in ("onnx", "onnxscript", "onnxruntime"):
        monkeypatch.setitem(sys.modules, package, None)  # `import package` now fails
    # The module itself imports without them.
    monkeypatch.delitem(sys.modules, "trainrig.compression.onnx_files", raising=False)
    onnx_files = importlib.import_module("trainrig.compression.onnx_files")

    with pytest.raises(ConfigError, match=r"pip install 'trainrig\[onnx\]'"):
        onnx_files.export_onnx(
            _trained_like("mlp").eval(), torch.randn(1, *INPUT_SHAPE), tmp_path / "m.onnx"
        )
    assert list(tmp_path.iterdir()) == []
