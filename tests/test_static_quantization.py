"""Static int8 quantization of trainrig's CNN behind a classifier's normalization."""

from __future__ import annotations

import copy
import io
from collections.abc import Iterator

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from tests.task_modules import classification_module
from trainrig.compression.static_quantization import StaticQuantization
from trainrig.config.errors import ConfigError
from trainrig.data.normalization import Standardize, channel_stats
from trainrig.models.cnn import build_cnn

BATCH_SHAPE = (64, 1, 8, 8)
CALIBRATION_BATCHES = 8


def _batches(count: int, seed: int) -> list[Tensor]:
    generator = torch.Generator().manual_seed(seed)
    return [torch.rand(BATCH_SHAPE, generator=generator) for _ in range(count)]


def _saved_bytes(model: nn.Module) -> int:
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    return len(buffer.getvalue())


@pytest.fixture(scope="module")
def float_model() -> nn.Module:
    """The CNN behind a Standardize, as trainrig's SupervisedModule runs it (random weights)."""
    torch.manual_seed(0)
    mean, std = channel_stats(torch.cat(_batches(4, seed=1)))
    classifier = classification_module(
        build_cnn((1, 8, 8), 10),
        10,
        optimizer=lambda module: torch.optim.SGD(module.parameters(), lr=0.1),
        normalization=Standardize(mean, std),
    )
    return classifier.eval()


@pytest.fixture(scope="module")
def probe() -> Tensor:
    """A fresh batch, seen by neither calibration nor the normalization statistics."""
    return _batches(1, seed=99)[0]


@pytest.fixture(scope="module")
def before(float_model: nn.Module, probe: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
    """The float model's outputs on `probe` and its state, taken before quantizing it."""
    with torch.no_grad():
        outputs = float_model(probe)
    return outputs, copy.deepcopy(float_model.state_dict())


@pytest.fixture(scope="module")
def drawn() -> list[int]:
    """How many calibration batches the quantizer took from its iterator."""
    return []


@pytest.fixture(scope="module")
def quantized(
    float_model: nn.Module, before: tuple[Tensor, dict[str, Tensor]], drawn: list[int]
) -> nn.Module:
    def calibration() -> Iterator[Tensor]:
        for batch in _batches(3 * CALIBRATION_BATCHES, seed=2):
            drawn.append(1)
            yield batch

    method = StaticQuantization(calibration_batches=CALIBRATION_BATCHES)
    return method.quantized(float_model, calibration())


def test_int8_logits_point_the_same_way_as_the_float_ones(
    quantized: nn.Module, before: tuple[Tensor, dict[str, Tensor]], probe: Tensor
) -> None:
    with torch.no_grad():
        int8_logits = quantized(probe)
    similarity = F.cosine_similarity(before[0], int8_logits, dim=1)
    assert similarity.shape == (BATCH_SHAPE[0],)
    assert similarity.min().item() >= 0.99


def test_the_quantized_model_saves_at_most_035_of_the_float_bytes(
    float_model: nn.Module, quantized: nn.Module
) -> None:
    assert _saved_bytes(quantized) <= 0.35 * _saved_bytes(float_model)


def test_conv_batch_norm_and_relu_are_fused_into_int8_blocks(quantized: nn.Module) -> None:
    from torch.ao.nn.intrinsic.quantized import ConvReLU2d
    from torch.ao.nn.quantized import Linear as Int8Linear

    modules = list(quantized.modules())
    assert sum(isinstance(module, ConvReLU2d) for module in modules) == 3
    assert sum(isinstance(module, Int8Linear) for module in modules) == 1
    float_kinds = (nn.Conv2d, nn.BatchNorm2d, nn.ReLU, nn.Linear)
    assert not any(type(module) in float_kinds for module in modules)


def test_only_calibration_batches_are_drawn(quantized: nn.Module, drawn: list[int]) -> None:
    assert len(drawn) == CALIBRATION_BATCHES


def test_the_float_model_is_left_unchanged(
    float_model: nn.Module,
    quantized: nn.Module,
    before: tuple[Tensor, dict[str, Tensor]],
    probe: Tensor,
) -> None:
    outputs, state = before
    with torch.no_grad():
        assert torch.equal(float_model(probe), outputs)
    after = float_model.state_dict()
    assert after.keys() == state.keys()
    assert all(torch.equal(after[key], value) for key, value in state.items())
    assert any(isinstance(module, nn.BatchNorm2d) for module in float_model.modules())


class _DataDependent(nn.Module):
    """Python control flow on a tensor's value: torch.fx cannot trace it."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(4, 4)

    def forward(self, x: Tensor) -> Tensor:
        if x.sum() > 0:
            return self.linear(x)  # type: ignore[no-any-return]
        return x


def test_an_untraceable_model_is_a_config_error_naming_the_way_out() -> None:
    with pytest.raises(ConfigError, match="compression=quantize_dynamic") as caught:
        StaticQuantization().quantized(_DataDependent(), [torch.rand(2, 4)])
    assert "_DataDependent" in str(caught.value)


@pytest.mark.parametrize("settings", [{"calibration_batches": 0}, {"backend": "tpu"}])
def test_bad_settings_are_config_errors(settings: dict[str, object]) -> None:
    with pytest.raises(ConfigError, match="compression"):
        StaticQuantization(**settings)  # type: ignore[arg-type]
