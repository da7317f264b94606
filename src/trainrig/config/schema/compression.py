"""Schemas of the `compression` group: pruning, quantization, distillation and export."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from trainrig.config.errors import ConfigError
from trainrig.config.schema.fields import bounded


@dataclass
class PruningConfig:
    _target_: str = "trainrig.compression.pruning.Pruning"
    name: str = "prune"
    method: str = bounded("global_l1", choices=("global_l1", "l1", "random", "structured"))
    amount: float = bounded(0.8, ge=0, lt=1)
    finetune_epochs: int = bounded(3, ge=0)
    norm: int = bounded(2, ge=1)
    export: Optional[str] = bounded(None, choices=("onnx",))


@dataclass
class IterativePruningConfig:
    _target_: str = "trainrig.compression.iterative_pruning.IterativePruning"
    name: str = "prune_iterative"
    method: str = bounded("global_l1", choices=("global_l1", "global_random", "l1", "random"))
    amount: float = bounded(0.8, ge=0, lt=1)
    start_epoch: int = bounded(2, ge=0)
    every_n_epochs: int = bounded(2, ge=1)
    steps: int = bounded(5, ge=1)
    export: Optional[str] = bounded(None, choices=("onnx",))


@dataclass
class DynamicQuantizationConfig:
    _target_: str = "trainrig.compression.quantization.DynamicQuantization"
    name: str = "quantize_dynamic"


@dataclass
class DistillationConfig:
    _target_: str = "trainrig.compression.distillation.Distillation"
    name: str = "distill"
    teacher_ckpt: Optional[str] = None
    teacher_experiment: Optional[str] = None
    teacher_overrides: list[str] = field(default_factory=list)
    temperature: float = bounded(4.0, gt=0)
    alpha: float = bounded(0.7, ge=0, le=1)
    export: Optional[str] = bounded(None, choices=("onnx",))

    def __post_init__(self) -> None:
        if (self.teacher_ckpt is None) == (self.teacher_experiment is None):
            raise ConfigError(
                "compression: give the teacher as teacher_ckpt=<a best.ckpt> or as "
                "teacher_experiment=<an experiment to train first>, one of the two"
            )


@dataclass
class ExportOnlyConfig:
    _target_: str = "trainrig.compression.onnx_export.ExportOnly"
    name: str = "export_onnx"
    export: Optional[str] = bounded("onnx", choices=("onnx",))


@dataclass
class StaticQuantizationConfig:
    _target_: str = "trainrig.compression.static_quantization.StaticQuantization"
    name: str = "quantize_static"
    calibration_batches: int = bounded(8, ge=1)
    backend: str = bounded("x86", choices=("x86", "qnnpack"))


@dataclass
class QuantizationAwareTrainingConfig:
    _target_: str = "trainrig.compression.quantization_aware.QuantizationAwareTraining"
    name: str = "quantize_qat"
    qat_epochs: int = bounded(2, ge=1)
    backend: str = bounded("x86", choices=("x86", "qnnpack"))
