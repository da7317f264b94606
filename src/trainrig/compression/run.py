"""Compress a trained classifier as the `compression` group says; report before and after.

`before_training` refuses, before any work, an option that cannot apply to the model (dynamic
quantization without a Linear layer, a model torch.fx cannot trace, a torch without FX graph mode
quantization) and loads (or first trains) a distillation teacher. `compress` runs on the best
checkpoint's weights after the test: one-shot pruning (masks, `finetune_epochs` of fine-tuning
with the masks in place, masks folded in), or dynamic, static or quantization-aware int8
quantization. A model pruned during training (`prune_iterative`) is reported against its dense
weights before the first pruning step, a distilled student against its teacher. Writes
`compression.json` and `checkpoints/compressed.pt` (the compressed state dict) and prints a table.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from torch import nn
from torchmetrics import Metric

from trainrig.compression.distillation import (
    Distillation,
    Distiller,
    load_teacher,
    train_teacher,
)
from trainrig.compression.iterative_pruning import DENSE_FILE, IterativePruning
from trainrig.compression.onnx_export import ExportOnly, check_onnx, export_onnx
from trainrig.compression.pruning import Pruning, make_permanent
from trainrig.compression.quantization import DynamicQuantization
from trainrig.compression.quantization_aware import QuantizationAwareTraining
from trainrig.compression.report import measure, print_report
from trainrig.compression.static_quantization import StaticQuantization
from trainrig.config.errors import ConfigError
from trainrig.rundir.checkpoint_io import save_atomic
from trainrig.rundir.results import write_atomic
from trainrig.training.build import CHECKPOINT_DIR, display_callbacks
from trainrig.training.classifier import Classifier

REPORT_FILE = "compression.json"
COMPRESSED_FILE = "compressed.pt"
ONNX_FILE = "model.onnx"


def before_training(cfg: DictConfig, classifier: Classifier, data: Any, run_dir: Path) -> None:
    """Refuse an option that cannot apply to this model; with distill, attach the teacher."""
    check_fits(cfg, classifier, data)
    attach_teacher(cfg, classifier, data, run_dir)


def check_fits(cfg: DictConfig, classifier: Classifier, data: Any) -> None:
    """Raise ConfigError if `cfg.compression` cannot compress `classifier` (nothing trained yet)."""
    method = instantiate(cfg.compression)
    dummy = torch.zeros(2, *data.input_shape)
    if isinstance(method, DynamicQuantization):
        method.check(classifier)
    elif isinstance(method, StaticQuantization):
        method.check(classifier, dummy)
    elif isinstance(method, QuantizationAwareTraining):
        method.check(classifier.model, dummy)


def attach_teacher(cfg: DictConfig, classifier: Classifier, data: Any, run_dir: Path) -> None:
    """With `compression=distill`: load (or first train) the teacher the training learns from."""
    method = instantiate(cfg.compression)
    if isinstance(method, Distillation):
        path = method.teacher_ckpt
        if path is None:
            # the student's seed, so the teacher's split is the student's: a teacher trained on
            # the student's test images would pass on what it learnt of them
            overrides = (f"seed={cfg.seed}", *method.teacher_overrides)
            path = str(train_teacher(str(method.teacher_experiment), overrides, run_dir))
        teacher = load_teacher(Path(path), data)
        classifier.distiller = Distiller(teacher, method.temperature, method.alpha)


def _finetune(cfg: DictConfig, classifier: pl.LightningModule, data: Any, epochs: int) -> None:
    """Train `epochs` more epochs on one device, with the run's optimizer and schedule."""
    for module in classifier.modules():  # states the final test left as inference tensors
        if isinstance(module, Metric):
            module.reset()
    settings = {k: v for k, v in cfg.trainer.items() if k != "_target_"}
    settings.update(max_epochs=epochs, max_steps=-1, min_epochs=None, devices=1)
    trainer = pl.Trainer(
        **settings, logger=False, enable_checkpointing=False, callbacks=display_callbacks(cfg)
    )
    trainer.fit(classifier, datamodule=data)


def _compressed(cfg: DictConfig, method: Any, classifier: Classifier, data: Any) -> nn.Module:
    """The compressed model: `classifier` changed in place, or a quantized copy of it."""
    model: nn.Module = classifier.model
    if isinstance(method, Distillation):
        raise ConfigError(
            "compression=distill trains a new student: run `trainrig train model=<student> "
            "compression=distill compression.teacher_ckpt=<teacher's best.ckpt>` instead"
        )
    if isinstance(method, Pruning):
        method.apply(model)
        if method.finetune_epochs:
            _finetune(cfg, classifier, data, method.finetune_epochs)
        make_permanent(model)
        return classifier.cpu()
    if isinstance(method, IterativePruning | ExportOnly):  # pruned while training, or as it is
        return classifier
    if isinstance(method, StaticQuantization):
        batches = (x.to(torch.float32) * classifier.rescale for x, _ in data.train_dataloader())
        quantized = method.quantized(classifier, batches)
        quantized.rescale = classifier.rescale  # type: ignore[assignment]  # what the report reads
        return quantized
    if isinstance(method, QuantizationAwareTraining):
        classifier.model = method.prepared(model, torch.zeros(2, *data.input_shape))
        _finetune(cfg, classifier, data, method.qat_epochs)
        classifier.model = method.quantized(classifier.model)
        return classifier.cpu()
    return method.quantized(classifier)  # type: ignore[no-any-return]


def _before(method: Any, classifier: Classifier, run_dir: Path) -> nn.Module:
    """What the report compares with: the teacher, the dense weights, or the model itself."""
    if classifier.distiller is not None:
        return classifier.distiller.teacher.cpu()
    dense = run_dir / CHECKPOINT_DIR / DENSE_FILE
    if isinstance(method, IterativePruning) and dense.is_file():
        reference = copy.deepcopy(classifier)
        reference.load_state_dict(torch.load(dense, map_location="cpu", weights_only=True))
        return reference
    return classifier


def compress(cfg: DictConfig, classifier: Classifier, data: Any, run_dir: Path) -> dict[str, Any]:
    """Compress `classifier` in place (or a quantized copy), save it, report before and after."""
    classifier = classifier.cpu()
    example = next(iter(data.test_dataloader()))[0].cpu().to(torch.float32) * classifier.rescale
    method = instantiate(cfg.compression)
    before = measure(_before(method, classifier, run_dir), data, example)
    if classifier.distiller is not None:  # a distilled student was compressed by its training
        compressed: nn.Module = classifier
    else:
        compressed = _compressed(cfg, method, classifier, data)
    after = measure(compressed, data, example)
    save_atomic(compressed.state_dict(), run_dir / CHECKPOINT_DIR / COMPRESSED_FILE)
    settings = OmegaConf.to_container(cfg.compression, resolve=True)
    report = {"compression": settings, "before": before, "after": after}
    if cfg.compression.get("export") == "onnx":
        path = export_onnx(compressed, example, run_dir / ONNX_FILE)
        report["onnx"] = {"file": path.name, "max_abs_diff": check_onnx(compressed, path, example)}
    write_atomic(run_dir / REPORT_FILE, json.dumps(report, indent=2) + "\n")
    print_report(report)
    return report
