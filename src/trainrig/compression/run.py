"""The steps every compression method shares: the `CompressionMethod` interface's defaults and
its `compress` flow (training/hooks.py; the runner instantiates `cfg.compression` once per run).

A method refuses in `prepare`, before any work, what cannot apply to the model (dynamic
quantization without a Linear layer, a model torch.fx cannot trace, a torch without FX graph mode
quantization), and may change the classifier (distillation attaches its teacher). `compress` runs
on the best checkpoint's weights after the test: it measures `reference` (the model itself, the
dense weights before iterative pruning, a distilled student's teacher) and `compressed` (the
method's result: the classifier changed in place, or a quantized copy), and writes
`compression.json` and `checkpoints/compressed.pt` (the compressed state dict), and prints a table.
With `export: onnx` both sides are also exported and timed in onnxruntime, the runtime a
compressed model is deployed with: at batch 1 eager PyTorch's per-layer overhead hides what
fewer channels save, which onnxruntime shows.
torch and the measuring are imported inside the functions: the methods' modules are read for
their signatures (the `compression` options' schema) before torch loads.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from trainrig.compression.onnx_files import check_onnx, export_onnx, onnxruntime_latency_ms
from trainrig.rundir.results import write_atomic

if TYPE_CHECKING:
    import torch
    from pytorch_lightning.callbacks import Callback
    from torch import nn

    from trainrig.training.hooks import CompressionRun
    from trainrig.training.supervised import SupervisedModule

REPORT_FILE = "compression.json"
COMPRESSED_FILE = "compressed.pt"
ONNX_FILE = "model.onnx"


class CompressionSteps:
    """The interface's defaults (nothing to check, no callbacks, the model as it is) and the
    shared `compress`; each method overrides what it does differently.

    `any_task`: the method compresses any LightningModule (a user's own, a regression) and is
    judged by that module's own test metrics; the others work on trainrig's single-label
    classifier (its `model`, class logits and test accuracy) and are refused for other tasks.
    """

    any_task: ClassVar[bool] = False

    def prepare(self, classifier: SupervisedModule, data: Any, run: CompressionRun) -> None:
        """Refuse, before any training, a model this method cannot compress (default: any fits)."""

    def callbacks(self, run: CompressionRun) -> list[Callback]:
        """The callbacks the fit needs (default: none)."""
        return []

    def reference(self, classifier: SupervisedModule, run: CompressionRun) -> nn.Module:
        """What the report compares with (default: the trained model itself)."""
        return classifier

    def compressed(self, classifier: SupervisedModule, data: Any, run: CompressionRun) -> nn.Module:
        """The compressed model (default: the trained model as it is)."""
        return classifier

    def save(
        self, compressed: nn.Module, classifier: SupervisedModule, run: CompressionRun
    ) -> None:
        """Save what else the method makes of its result (default: nothing more)."""

    def compress(
        self, classifier: SupervisedModule, data: Any, run: CompressionRun
    ) -> dict[str, Any]:
        """Compress `classifier` (in place, or a quantized copy), save it, report both sides."""

        import torch

        from trainrig.compression.measure import holds_quantized, macs_per_sample
        from trainrig.compression.report import measure, print_report
        from trainrig.rundir.checkpoint_io import save_atomic

        classifier = classifier.cpu()
        example = example_input(classifier, data)
        onnx = run.settings.get("export") == "onnx"
        reference = self.reference(classifier, run)
        before = measure(reference, data, example)
        if onnx:  # before compressing: some methods change the classifier in place
            before |= reference_onnx_latencies(reference, example)
        compressed = self.compressed(classifier, data, run)
        float_macs = None  # an int8 copy does the MACs of the float classifier it was made from
        if holds_quantized(compressed):
            float_macs = (
                before["macs_per_sample"]  # quantized in place (QAT): the same layers as before
                if compressed is classifier
                else macs_per_sample(classifier, example)
            )
        after = measure(compressed, data, example, float_macs)
        save_atomic(compressed.state_dict(), run.checkpoint_dir / COMPRESSED_FILE)
        self.save(compressed, classifier, run)
        report = {
            "compression": run.settings,
            "cpu_threads": torch.get_num_threads(),
            "before": before,
            "after": after,
        }
        if onnx:
            path = export_onnx(compressed, example, run.run_dir / ONNX_FILE)
            difference = check_onnx(compressed, path, example)
            report["onnx"] = {"file": path.name, "max_abs_diff": difference}
            after |= onnx_latencies(path, example)
        write_atomic(run.run_dir / REPORT_FILE, json.dumps(report, indent=2) + "\n")
        print_report(report)
        return report


def onnx_latencies(path: Path, example: torch.Tensor) -> dict[str, float]:
    """onnxruntime's CPU latency of the exported model at `path`: batch 1 and the test batch."""
    return {
        "onnxruntime_latency_ms_batch1": onnxruntime_latency_ms(path, example[:1]),
        "onnxruntime_latency_ms_per_batch": onnxruntime_latency_ms(path, example),
    }


def reference_onnx_latencies(reference: nn.Module, example: torch.Tensor) -> dict[str, float]:
    """`onnx_latencies` of the model before compression, exported to a temporary file."""
    with tempfile.TemporaryDirectory(prefix="trainrig-onnx-") as folder:
        return onnx_latencies(export_onnx(reference, example, Path(folder) / ONNX_FILE), example)


def example_input(module: nn.Module, data: Any) -> torch.Tensor:
    """The inputs of the first test batch as the model takes them (float, times `rescale`)."""
    import torch

    from trainrig.config.errors import ConfigError

    batch = next(iter(data.test_dataloader()))
    inputs = batch[0] if isinstance(batch, list | tuple) else batch
    if not isinstance(inputs, torch.Tensor):
        raise ConfigError(
            f"compression: the test batches are {type(batch).__name__}, not (inputs, targets) "
            "tensors, so there is no input to measure latency or export with; use compression=none"
        )
    return inputs.cpu().to(torch.float32) * getattr(module, "rescale", 1.0)


def dummy_input(data: Any) -> torch.Tensor:
    """A batch of two zero samples shaped as the data's, for a trial trace before training."""
    import torch

    return torch.zeros(2, *data.input_shape)
