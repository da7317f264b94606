"""Compress a trained classifier as the `compression` group says; report before and after.

Runs on the best checkpoint's weights after the test: pruning (masks, `finetune_epochs` of
fine-tuning with the masks in place, masks folded in) or dynamic int8 quantization. Both sides are
measured the same way, on the CPU: parameters, non-zero parameters, sparsity, size on disk (dense
and deflate-compressed), latency per test batch, and test accuracy. Writes `compression.json` and
`checkpoints/compressed.pt` (the compressed state dict) and prints a table.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from torch import nn
from torchmetrics import Metric

from trainrig.build import display_callbacks
from trainrig.classifier import Classifier
from trainrig.compression.distillation import (
    Distillation,
    Distiller,
    load_teacher,
    train_teacher,
)
from trainrig.compression.measure import count_parameters, cpu_latency_ms, size_on_disk
from trainrig.compression.onnx_export import ExportOnly, check_onnx, export_onnx
from trainrig.compression.pruning import Pruning, make_permanent
from trainrig.compression.static_quantization import StaticQuantization
from trainrig.errors import ConfigError
from trainrig.results import write_atomic

REPORT_FILE = "compression.json"
COMPRESSED_FILE = "compressed.pt"
ONNX_FILE = "model.onnx"


@torch.inference_mode()
def _test_accuracy(classifier: nn.Module, data: Any) -> float:
    """Accuracy on the test split, on the CPU (where int8 dynamic quantization runs)."""
    was_training = classifier.training
    classifier.eval()
    correct = total = 0
    for x, y in data.test_dataloader():
        inputs = x.cpu().to(torch.float32) * classifier.rescale
        correct += int((classifier(inputs).argmax(dim=1) == y.cpu()).sum())
        total += len(y)
    classifier.train(was_training)
    return correct / total


def _measure(classifier: nn.Module, data: Any, example: torch.Tensor) -> dict[str, float]:
    total, nonzero = count_parameters(classifier)
    return {
        "parameters": total,
        "nonzero_parameters": nonzero,
        "sparsity": 1 - nonzero / total,
        **size_on_disk(classifier),
        "cpu_latency_ms_per_batch": cpu_latency_ms(classifier, example),
        "test/acc": _test_accuracy(classifier, data),
    }


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


def _compressed(cfg: DictConfig, classifier: pl.LightningModule, data: Any) -> nn.Module:
    method = instantiate(cfg.compression)
    model: nn.Module = classifier.model  # type: ignore[assignment]
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
    if isinstance(method, ExportOnly):
        return classifier
    if isinstance(method, StaticQuantization):
        batches = (x.to(torch.float32) * classifier.rescale for x, _ in data.train_dataloader())
        quantized = method.quantized(classifier, batches)
        quantized.rescale = classifier.rescale  # a GraphModule: keep what the report reads
        return quantized
    if not any(isinstance(m, nn.Linear) for m in classifier.modules()):
        raise ConfigError(
            "compression=quantize_dynamic: the model has no nn.Linear layer, the only kind "
            "dynamic quantization covers; choose a pruning option instead"
        )
    return method.quantized(classifier)  # type: ignore[no-any-return]


def attach_teacher(cfg: DictConfig, classifier: Classifier, data: Any, run_dir: Path) -> None:
    """With `compression=distill`: load (or first train) the teacher the training learns from."""
    method = instantiate(cfg.compression)
    if isinstance(method, Distillation):
        path = method.teacher_ckpt
        if path is None:
            experiment = str(method.teacher_experiment)
            path = str(train_teacher(experiment, method.teacher_overrides, run_dir))
        teacher = load_teacher(Path(path), data)
        classifier.distiller = Distiller(teacher, method.temperature, method.alpha)


def compress(cfg: DictConfig, classifier: Classifier, data: Any, run_dir: Path) -> dict[str, Any]:
    """Compress `classifier` in place (or a quantized copy), save it, report before and after.

    A distilled student was compressed by its training: the report compares it with its teacher.
    """
    classifier = classifier.cpu()
    example = next(iter(data.test_dataloader()))[0].cpu().to(torch.float32) * classifier.rescale
    if classifier.distiller is not None:
        before = _measure(classifier.distiller.teacher.cpu(), data, example)
        compressed: nn.Module = classifier
    else:
        before = _measure(classifier, data, example)
        compressed = _compressed(cfg, classifier, data)
    after = _measure(compressed, data, example)
    torch.save(compressed.state_dict(), run_dir / "checkpoints" / COMPRESSED_FILE)
    method = OmegaConf.to_container(cfg.compression, resolve=True)
    report = {"compression": method, "before": before, "after": after}
    if cfg.compression.get("export") == "onnx":
        path = export_onnx(compressed, example, run_dir / ONNX_FILE)
        report["onnx"] = {"file": path.name, "max_abs_diff": check_onnx(compressed, path, example)}
    write_atomic(run_dir / REPORT_FILE, json.dumps(report, indent=2) + "\n")
    _print_report(report)
    return report


def _number(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:.4g}"


def _print_report(report: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Compression ({report['compression'].get('name', '')})")
    for column in ("", "before", "after", "after / before"):
        table.add_column(column, justify="right" if column else "left")
    for key, before in report["before"].items():
        after = report["after"][key]
        ratio = f"{after / before:.3f}" if before else "-"
        table.add_row(key, _number(before), _number(after), ratio)
    Console().print(table)
