"""The compression report's measurements on real float, pruned and quantized modules."""

from __future__ import annotations

import copy
import math
import warnings

import pytest
import torch
from torch import nn
from torch.nn.utils import prune

from trainrig.compression.measure import count_parameters, cpu_latency_ms, size_on_disk

WEIGHTS = 64 * 32 + 32 * 10
PARAMETERS = WEIGHTS + 32 + 10


def _model(inputs: int = 64, hidden: int = 32) -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(inputs, hidden), nn.ReLU(), nn.Linear(hidden, 10))


def _pruned(model: nn.Sequential, amount: float = 0.5) -> nn.Sequential:
    pruned = copy.deepcopy(model)
    layers = [(pruned[1], "weight"), (pruned[3], "weight")]
    prune.global_unstructured(layers, pruning_method=prune.L1Unstructured, amount=amount)
    return pruned


def _quantized(model: nn.Module) -> nn.Module:
    with warnings.catch_warnings():  # torch.ao.quantization and quantized tensors are deprecated
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.filterwarnings("ignore", "torch.quantize_per_tensor", UserWarning)
        return torch.ao.quantization.quantize_dynamic(model, {nn.Linear}, dtype=torch.qint8)


def test_a_float_model_counts_every_parameter_as_non_zero() -> None:
    assert count_parameters(_model()) == (PARAMETERS, PARAMETERS)


def test_a_pruned_model_counts_its_masked_weights_once() -> None:
    model = _model()
    pruned = _pruned(model)
    total, nonzero = count_parameters(pruned)
    assert total == PARAMETERS
    assert nonzero == PARAMETERS - round(0.5 * WEIGHTS)


def test_pruning_shrinks_the_compressed_size_but_not_the_dense_one() -> None:
    model = _model()
    before, after = size_on_disk(model), size_on_disk(_pruned(model))
    assert after["dense_bytes"] == pytest.approx(before["dense_bytes"], rel=0.1)  # no _orig + _mask
    assert after["compressed_bytes"] < 0.8 * before["compressed_bytes"]


def test_measuring_a_pruned_model_leaves_its_masks_in_place() -> None:
    pruned = _pruned(_model())
    size_on_disk(pruned)
    assert {"1.weight_orig", "1.weight_mask"} <= set(pruned.state_dict())


def test_a_quantized_model_counts_its_int8_weights_once() -> None:
    model = _model()
    assert count_parameters(_quantized(copy.deepcopy(model)))[0] == PARAMETERS


@pytest.mark.parametrize(("inputs", "hidden", "at_most"), [(64, 32, 0.55), (784, 256, 0.35)])
def test_a_quantized_model_saves_about_a_quarter_of_the_float_bytes(
    inputs: int, hidden: int, at_most: float
) -> None:
    # int8 weights are a quarter of float32 ones, but each quantized layer also saves a scale, a
    # zero point and its packing: about 3.4 kB here against 2.1 kB for the float file's framing.
    # For the 2,410-parameter model that overhead dominates (ratio 0.51); for 784-256-10 (203,530
    # parameters) it does not (ratio 0.25).
    model = _model(inputs, hidden)
    quantized = _quantized(copy.deepcopy(model))
    ratio = size_on_disk(quantized)["dense_bytes"] / size_on_disk(model)["dense_bytes"]
    assert ratio <= at_most


@pytest.mark.parametrize("training", [True, False])
def test_cpu_latency_is_a_positive_time_and_keeps_the_mode(training: bool) -> None:
    model = _model().train(training)
    model[1].train(not training)  # a submodule in the other mode stays so too
    latency = cpu_latency_ms(model, torch.randn(8, 8, 8), repeats=5)
    assert latency > 0 and math.isfinite(latency)
    assert model.training is training and model[1].training is not training
