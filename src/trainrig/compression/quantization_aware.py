"""Quantization-aware training (QAT): fine-tune with fake int8 quantization, then convert.

After the float training, the classifier's model is traced with fake-quant modules in place
(FX graph mode `prepare_qat_fx`, the same fusion and `backend` as static quantization), trained
`qat_epochs` more epochs so its weights adapt to int8 rounding, then converted to int8 kernels
for the CPU. The classifier's normalization stays in float in front of the int8 model. Where the
installed torch lacks FX graph mode quantization, the option is refused before training.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

from annotated_types import Ge

from trainrig.compression.fx_quantization import (
    Backend,
    convert,
    prepare,
    require_fx_quantization,
)
from trainrig.compression.run import CompressionSteps, dummy_input
from trainrig.config.signature import option

if TYPE_CHECKING:
    import torch
    from torch import nn

    from trainrig.training.hooks import CompressionRun
    from trainrig.training.supervised import SupervisedModule


@option("compression")
@dataclass(frozen=True)
class QuantizationAwareTraining(CompressionSteps):
    """`compression=quantize_qat`: `qat_epochs` of fake-quant fine-tuning, then int8 on the CPU."""

    name: str = "quantize_qat"
    qat_epochs: Annotated[int, Ge(1)] = 2
    backend: Backend = "x86"

    def check(self, model: nn.Module, example: torch.Tensor) -> None:
        """Raise ConfigError, before any training, if this torch or `model` rules QAT out."""
        require_fx_quantization(self.name)
        self.prepared(copy.deepcopy(model).cpu(), example.cpu())

    def prepare(self, classifier: SupervisedModule, data: Any, run: CompressionRun) -> None:
        self.check(classifier.model, dummy_input(data))

    def compressed(self, classifier: SupervisedModule, data: Any, run: CompressionRun) -> nn.Module:
        """The classifier with its model fake-quantized, fine-tuned, then converted to int8."""
        classifier.model = self.prepared(classifier.model, dummy_input(data))
        run.finetune(classifier, data, self.qat_epochs)
        classifier.model = self.quantized(classifier.model)
        return classifier.cpu()

    def prepared(self, model: nn.Module, example: torch.Tensor) -> nn.Module:
        """`model` (consumed: pass a copy) with fake-quant modules, in train mode, to fine-tune."""
        return prepare(model.train(), example, self.backend, self.name, qat=True)

    def quantized(self, prepared: nn.Module) -> nn.Module:
        """An int8 CPU copy of a fine-tuned prepared model (left as it was), in eval mode."""
        return convert(copy.deepcopy(prepared).cpu().eval())
