"""The before/after report of a compressed model: what is measured and the table (the figures a
run returns, `compression/...` in metrics.json, are `training.metric_names.compression_metrics`).

Both sides are measured the same way, on the CPU: parameters, non-zero parameters, sparsity, size
on disk (dense and deflate-compressed), multiply-accumulates per sample, latency at batch 1 and
per test batch (with torch's CPU threads, `torch.get_num_threads()`, which the report records),
and test accuracy.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from trainrig.compression.measure import (
    count_parameters,
    cpu_latency_ms,
    macs_per_sample,
    size_on_disk,
)


@torch.inference_mode()
def test_accuracy(classifier: nn.Module, data: Any) -> float:
    """Accuracy on the test split, on the CPU (where int8 quantized models run)."""
    was_training = classifier.training
    classifier.eval()
    correct = total = 0
    for x, y in data.test_dataloader():
        inputs = x.cpu().to(torch.float32) * classifier.rescale
        correct += int((classifier(inputs).argmax(dim=1) == y.cpu()).sum())
        total += len(y)
    classifier.train(was_training)
    return correct / total


def test_metrics(module: nn.Module, data: Any) -> dict[str, float]:
    """The model's test metrics on the CPU: accuracy for trainrig's classifier (and its quantized
    copies, plain modules with a `rescale`); a LightningModule's own test metrics otherwise."""
    import pytorch_lightning as pl

    from trainrig.training.supervised import SupervisedModule

    classifier = isinstance(module, SupervisedModule) and module.task.kind == "classification"
    if classifier or not isinstance(module, pl.LightningModule):
        return {"test/acc": test_accuracy(module, data)}
    trainer = pl.Trainer(
        accelerator="cpu", devices=1, logger=False, enable_checkpointing=False,
        enable_progress_bar=False, enable_model_summary=False,
    )  # fmt: skip
    results = trainer.test(module, datamodule=data, verbose=False)[0]
    return {k: float(v) for k, v in results.items() if k.startswith("test/")}


def measure(
    classifier: nn.Module, data: Any, example: torch.Tensor, float_macs: float | None = None
) -> dict[str, float]:
    """One side of the report: `classifier` (with a `rescale`) on the CPU. `float_macs`: the MACs
    of the float model an int8 one came from, which the FLOP counter cannot see through."""
    total, nonzero = count_parameters(classifier)
    macs = macs_per_sample(classifier, example)
    macs = float_macs if macs is None else macs
    return {
        "parameters": total,
        "nonzero_parameters": nonzero,
        "sparsity": 1 - nonzero / total,
        **size_on_disk(classifier),
        "macs_per_sample": float("nan") if macs is None else macs,
        "cpu_latency_ms_batch1": cpu_latency_ms(classifier, example[:1]),
        "cpu_latency_ms_per_batch": cpu_latency_ms(classifier, example),
        **test_metrics(classifier, data),
    }


def _number(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:.4g}"


def print_report(report: dict[str, Any]) -> None:
    """The before/after table, with the after/before ratio of every figure."""
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
