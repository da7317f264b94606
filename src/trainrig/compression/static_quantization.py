"""Post-training static int8 quantization (FX graph mode, torch.ao.quantization), on the CPU.

Unlike dynamic quantization, activations get fixed scales too: a few training batches run through
a copy of the model with observers in place (calibration), then conv, linear and their fused
ReLUs become int8 kernels. Conv + BatchNorm + ReLU are fused automatically (the model is traced
in eval mode), so trainrig's CNN becomes int8 QuantizedConvReLU2d blocks and an int8 head;
normalization and anything else without an int8 kernel stays in float around them.

Flow: FX graph mode (`prepare_fx` with `get_default_qconfig_mapping(backend)`, calibration,
`convert_fx`). torch 2.14 still ships it (deprecated, pointing to torchao), while the PT2E flow
(`torch.ao.quantization.quantize_pt2e`, X86InductorQuantizer) has moved out of torch into
torchao, which trainrig does not depend on; eager mode would need QuantStub/DeQuantStub and
hand-written fusion lists in every model. FX traces any module whose forward has no
data-dependent Python control flow; a module it cannot trace raises ConfigError.

`backend` picks the observers: `x86` (the default; fbgemm/oneDNN kernels on x86 CPUs, 7-bit
activation range so older CPUs without VNNI do not saturate) or `qnnpack` (ARM and mobile, full
8-bit range). The kernels that run the result are torch's `torch.backends.quantized.engine`
(`x86` on x86 machines); set it to `qnnpack` where the model is run on ARM.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

from annotated_types import Ge

from trainrig.compression.fx_quantization import Backend, convert, prepare
from trainrig.compression.run import CompressionSteps, dummy_input
from trainrig.config.signature import option

if TYPE_CHECKING:
    import torch
    from torch import nn

    from trainrig.training.hooks import CompressionRun
    from trainrig.training.supervised import SupervisedModule


@option("compression")
@dataclass(frozen=True)
class StaticQuantization(CompressionSteps):
    """Post-training static int8 quantization of conv nets on the CPU.

    Calibrated on training batches (`compression=quantize_static`).
    """

    name: str = "quantize_static"
    calibration_batches: Annotated[int, Ge(1)] = 8  # training batches that set the ranges
    backend: Backend = "x86"

    def check(self, model: nn.Module, example: torch.Tensor) -> None:
        """Raise ConfigError, before any training, if `model` cannot be prepared (a trial run)."""
        trial = copy.deepcopy(model).cpu().eval()
        prepare(trial, example.cpu(), self.backend, self.name, qat=False)

    def prepare(self, classifier: SupervisedModule, data: Any, run: CompressionRun) -> None:
        self.check(classifier, dummy_input(data))

    def compressed(self, classifier: SupervisedModule, data: Any, run: CompressionRun) -> nn.Module:
        """An int8 copy, calibrated on training batches, with the `rescale` the report reads."""
        import torch

        batches = (x.to(torch.float32) * classifier.rescale for x, _ in data.train_dataloader())
        quantized = self.quantized(classifier, batches)
        quantized.rescale = classifier.rescale  # type: ignore[assignment]
        return quantized

    def quantized(self, model: nn.Module, calibration: Iterable[torch.Tensor]) -> nn.Module:
        """An int8 copy of `model` (left unchanged), on the CPU.

        Calibrated on up to `calibration_batches` input batches from `calibration` (float tensors
        the model takes as they are). Raises ConfigError if torch.fx cannot trace `model`.
        """
        import torch

        batches = [x.cpu() for x in itertools.islice(calibration, self.calibration_batches)]
        if not batches:
            raise ValueError("static quantization needs at least one calibration batch")
        cpu_copy = copy.deepcopy(model).cpu().eval()
        prepared = prepare(cpu_copy, batches[0], self.backend, self.name, qat=False)
        with torch.no_grad():
            for batch in batches:
                prepared(batch)
        return convert(prepared)
