"""Post-training dynamic int8 quantization of linear layers (torch.ao.quantization), on the CPU.

Weights are stored as int8 and activations are quantized on the fly, batch by batch: no
calibration data, a smaller model on disk, usually faster linear layers on CPU. Conv layers stay
in float (dynamic quantization covers nn.Linear, nn.LSTM, nn.GRU).
"""

from __future__ import annotations

import copy
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from trainrig.compression.run import CompressionSteps
from trainrig.config.errors import ConfigError
from trainrig.config.signature import option

if TYPE_CHECKING:
    from torch import nn

    from trainrig.training.hooks import CompressionRun
    from trainrig.training.supervised import SupervisedModule


@option("compression")
@dataclass(frozen=True)
class DynamicQuantization(CompressionSteps):
    """Quantize every nn.Linear to int8 after training (`compression=quantize_dynamic`)."""

    name: str = "quantize_dynamic"
    any_task: ClassVar[bool] = True

    def check(self, model: nn.Module) -> None:
        """Raise ConfigError, before any training, if `model` has no nn.Linear to quantize."""
        from torch import nn

        if not any(isinstance(m, nn.Linear) for m in model.modules()):
            raise ConfigError(
                "compression=quantize_dynamic: the model has no nn.Linear layer, the only kind "
                "dynamic quantization covers here; use compression=quantize_static (conv nets) "
                "or a pruning option"
            )

    def prepare(self, classifier: SupervisedModule, data: Any, run: CompressionRun) -> None:
        self.check(classifier)

    def compressed(self, classifier: SupervisedModule, data: Any, run: CompressionRun) -> nn.Module:
        return self.quantized(classifier)

    def quantized(self, model: nn.Module) -> nn.Module:
        """An int8 copy of `model` on the CPU; `model` itself is left as it was."""
        import torch
        from torch import nn

        cpu_copy = copy.deepcopy(model).cpu().eval()
        with warnings.catch_warnings():  # torch 2.10+ points to torchao; this API still works
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", FutureWarning)
            quantized: nn.Module = torch.ao.quantization.quantize_dynamic(
                cpu_copy, {nn.Linear}, dtype=torch.qint8
            )
        return quantized
