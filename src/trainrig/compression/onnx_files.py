"""ONNX export of a trained model (torch.export-based exporter), checked against onnxruntime.

The optional packages (`onnx`, `onnxscript`, `onnxruntime`: `pip install 'trainrig[onnx]'`) are
imported lazily, so this module imports without them; torch too, as the compression options'
modules that import this one are read for their signatures before torch loads. The model is
exported from a CPU copy in eval mode (batch norm uses its running statistics, dropout is off),
with a dynamic batch dimension; the model passed in keeps its device and train/eval mode.
"""

from __future__ import annotations

import copy
import importlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from trainrig.config.errors import ConfigError
from trainrig.rundir.atomic_files import temporary_beside

if TYPE_CHECKING:
    import torch
    from torch import nn

ONNX_PACKAGES = ("onnx", "onnxscript", "onnxruntime")
MISSING_PACKAGES_MESSAGE = (
    "compression.export=onnx needs the optional ONNX packages: pip install 'trainrig[onnx]'"
)
# A compression option's `export`: "onnx" also writes model.onnx, checked against onnxruntime.
Export = Literal["onnx"] | None
INPUT_NAME = "input"
OUTPUT_NAME = "output"
BATCH_AXIS = "batch"


def _require(*packages: str) -> None:
    """Raise ConfigError naming the `onnx` extra if any of `packages` cannot be imported."""
    for package in packages:
        try:
            importlib.import_module(package)
        except ImportError as error:
            raise ConfigError(MISSING_PACKAGES_MESSAGE) from error


def _cpu_eval_copy(model: nn.Module) -> nn.Module:
    """A CPU copy of `model` in eval mode; `model` itself is left as it was."""
    return copy.deepcopy(model).cpu().eval()


def export_onnx(model: nn.Module, example: torch.Tensor, path: Path) -> Path:
    """Export `model` (eval mode, CPU) to ONNX at `path` with a dynamic batch dimension.

    `example` is one input batch (any batch size). The file is written atomically: to a
    temporary file in the same folder, then renamed over `path`. Returns `path`.
    """
    import torch

    _require(*ONNX_PACKAGES)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    cpu_model = _cpu_eval_copy(model)
    example = example.detach().cpu()
    # Suffix .onnx: the writer picks the serialization format from the file extension.
    fd, tmp_name = temporary_beside(path, suffix=".tmp.onnx")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        torch.onnx.export(
            cpu_model,
            (example,),
            str(tmp),
            dynamo=True,
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            dynamic_shapes=({0: BATCH_AXIS},),
            external_data=False,  # one self-contained file, so the rename keeps it whole
            verbose=False,  # no "[torch.onnx] ..." progress lines on stdout
        )
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def onnxruntime_latency_ms(path: Path, batch: torch.Tensor, seconds: float = 0.25) -> float:
    """Median milliseconds per run of `batch` through the ONNX model at `path` in onnxruntime on
    the CPU, with torch's number of threads: 10 warm-up runs, then as many timed ones as fill
    about `seconds` (20 to 1000): a run of a small model takes microseconds, and 20 of them
    give a median that moves by a tenth from one measure to the next."""
    _require("onnxruntime")
    import statistics
    import time

    import onnxruntime
    import torch

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = torch.get_num_threads()
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    feed = {session.get_inputs()[0].name: batch.detach().cpu().numpy()}
    start = time.perf_counter()
    for _ in range(10):
        session.run(None, feed)
    each = (time.perf_counter() - start) / 10
    times: list[float] = []
    for _ in range(min(1000, max(20, int(seconds / max(each, 1e-9))))):
        start = time.perf_counter()
        session.run(None, feed)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def check_onnx(model: nn.Module, path: Path, batch: torch.Tensor, atol: float = 1e-4) -> float:
    """Max absolute difference between onnxruntime (CPU) and `model` (CPU, eval) on `batch`.

    Raises ValueError if it exceeds `atol` or the output shapes differ.
    """
    _require("onnxruntime")
    import onnxruntime
    import torch

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    inputs = batch.detach().cpu()
    input_name = session.get_inputs()[0].name
    onnx_output = torch.from_numpy(session.run(None, {input_name: inputs.numpy()})[0])
    with torch.no_grad():
        expected = _cpu_eval_copy(model)(inputs)
    if not isinstance(expected, torch.Tensor):
        raise ValueError(f"check_onnx compares one output tensor; the model returned {expected!r}")
    if onnx_output.shape != expected.shape:
        raise ValueError(
            f"ONNX model {path} gives output shape {tuple(onnx_output.shape)}, "
            f"the torch model {tuple(expected.shape)}"
        )
    difference = float((onnx_output.to(expected.dtype) - expected).abs().max())
    if not difference <= atol:  # also catches NaN
        raise ValueError(
            f"ONNX model {path} differs from the torch model by up to {difference:.3g} "
            f"(more than atol={atol:g}) on a batch of {len(inputs)}"
        )
    return difference
