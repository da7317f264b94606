"""FX graph mode quantization (torch.ao.quantization), shared by static int8 and QAT.

torch 2.10+ marks this API deprecated in favour of torchao, which trainrig does not depend on;
it still works in the installed torch (2.14). `require_fx_quantization` turns its absence into a
ConfigError naming the way out, `prepare` traces a model with observers (or fake-quant modules,
for quantization-aware training) in place, and `convert` turns a prepared model into int8 kernels.
Conv + BatchNorm + ReLU and Linear + BatchNorm are fused along the way. torch is imported
inside the functions: the options' modules import this one and are read before torch loads.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Literal

from trainrig.config.errors import ConfigError

if TYPE_CHECKING:
    import torch
    from torch import nn

# The observers' target: x86 CPUs (fbgemm/oneDNN) or ARM and mobile (the options' `backend`).
Backend = Literal["x86", "qnnpack"]
WAY_OUT = "use compression=quantize_dynamic or a pruning option"


@contextmanager
def quiet_deprecations() -> Iterator[None]:
    """Hide the warnings this still-working API prints (deprecation, torchao, reduce_range)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        warnings.filterwarnings("ignore", ".*quantized tensor", UserWarning)
        warnings.filterwarnings("ignore", ".*reduce_range will be deprecated", UserWarning)
        yield


def require_fx_quantization(option: str) -> None:
    """Raise ConfigError if the installed torch no longer ships FX graph mode quantization."""
    import torch

    try:
        with quiet_deprecations():
            quantize_fx = importlib.import_module("torch.ao.quantization.quantize_fx")
        for name in ("prepare_fx", "prepare_qat_fx", "convert_fx"):
            getattr(quantize_fx, name)
    except (ImportError, AttributeError):
        raise ConfigError(
            f"compression={option} needs torch.ao.quantization.quantize_fx (prepare_fx, "
            f"prepare_qat_fx, convert_fx), which torch {torch.__version__} does not ship; "
            f"{WAY_OUT}, or install a torch that still has it (2.14 does)"
        ) from None


def prepare(
    model: nn.Module, example: torch.Tensor, backend: str, option: str, *, qat: bool
) -> nn.Module:
    """`model` traced and fused, with observers (or fake-quant modules, `qat=True`) in place.

    `model` itself is consumed: pass a copy, in eval mode for static quantization, in train mode
    for QAT. Raises ConfigError naming the way out if torch.fx cannot trace it.
    """
    require_fx_quantization(option)
    with quiet_deprecations():
        from torch.ao.quantization import (
            get_default_qat_qconfig_mapping,
            get_default_qconfig_mapping,
        )
        from torch.ao.quantization.quantize_fx import prepare_fx, prepare_qat_fx
        from torch.fx.proxy import TraceError

        kind = "quantization-aware training" if qat else "static quantization"
        try:
            if qat:
                mapping = get_default_qat_qconfig_mapping(backend)
                return prepare_qat_fx(model, mapping, (example,))
            return prepare_fx(model, get_default_qconfig_mapping(backend), (example,))
        except (TraceError, TypeError, NotImplementedError) as error:
            raise ConfigError(
                f"compression={option}: torch.fx cannot trace {type(model).__name__} for "
                f"{kind} ({error}); {WAY_OUT}"
            ) from error


def convert(prepared: nn.Module) -> nn.Module:
    """The int8 model of a prepared (and calibrated or fine-tuned) one, in eval mode."""
    with quiet_deprecations():
        from torch.ao.quantization.quantize_fx import convert_fx

        quantized: nn.Module = convert_fx(prepared)  # type: ignore[arg-type]
    return quantized.eval()
