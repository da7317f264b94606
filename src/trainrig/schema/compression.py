"""Schemas of the `compression` group: pruning and quantization."""

from __future__ import annotations

from dataclasses import dataclass

from omegaconf import MISSING

from trainrig.schema.fields import bounded


@dataclass
class PruningConfig:
    _target_: str = "trainrig.compression.pruning.Pruning"
    name: str = "prune"
    method: str = bounded("global_l1", choices=("global_l1", "l1", "random", "structured"))
    amount: float = bounded(0.8, ge=0, lt=1)
    finetune_epochs: int = bounded(3, ge=0)
    norm: int = bounded(2, ge=1)


@dataclass
class DynamicQuantizationConfig:
    _target_: str = "trainrig.compression.quantization.DynamicQuantization"
    name: str = "quantize_dynamic"


@dataclass
class DistillationConfig:
    _target_: str = "trainrig.compression.distillation.Distillation"
    name: str = "distill"
    teacher_ckpt: str = MISSING
    temperature: float = bounded(4.0, gt=0)
    alpha: float = bounded(0.7, ge=0, le=1)
