"""`compression=export_onnx`: no compression, the trained model exported to ONNX.

The exporter and its check against onnxruntime are `onnx_files.py` (re-exported here): the shared
compression steps (`run.py`) export with them too, and this option is one of those steps' methods.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from trainrig.compression.onnx_files import Export
from trainrig.compression.run import CompressionSteps
from trainrig.config.signature import option


@option("compression")
@dataclass(frozen=True)
class ExportOnly(CompressionSteps):
    """`compression=export_onnx`: the trained model as it is, exported (the shared steps)."""

    name: str = "export_onnx"
    export: Export = "onnx"
    any_task: ClassVar[bool] = True
