"""`compression=prune_channels`: remove whole output channels and neurons, so the model shrinks.

Torch-Pruning (DepGraph, `pip install 'trainrig[pruning]'`) traces the model, groups the layers
that must lose the same channels (a conv's outputs, its batch norm, the next conv's inputs, every
branch of a residual addition, a linear layer after a flatten) and removes the least important
channels of each group: `criterion` l1 or l2 (weight magnitude), bn_scale (batch-norm scale),
taylor (|weight x gradient| on `taylor_batches` training batches). `scope=layer` removes `amount`
of every group's channels, `global` ranks groups together. The head's outputs (the classes) are
kept. After training, `steps` rounds each prune a share (the shares add up to `amount`) and
fine-tune `finetune_epochs` (the distillation option learns from the unpruned model meanwhile).
The result is an ordinary, narrower `nn.Module`; `checkpoints/pruned.ckpt` rebuilds it
(`pruned_checkpoint.py`). `quantize` then makes an int8 copy of it (dynamic or static).
"""

from __future__ import annotations

import contextlib
import copy
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal

from annotated_types import Ge, Gt, Le

from trainrig.compression import pruned_checkpoint
from trainrig.compression.onnx_files import Export
from trainrig.compression.pruning import Share
from trainrig.compression.run import CompressionSteps, dummy_input
from trainrig.config.errors import ConfigError
from trainrig.config.signature import option

if TYPE_CHECKING:
    import torch
    from torch import nn

    from trainrig.training.hooks import CompressionRun
    from trainrig.training.supervised import SupervisedModule

Criterion = Literal["l1", "l2", "bn_scale", "taylor"]
# Kept in the pruned model's __dict__ (plain attributes, not saved in its state dict): Torch-
# Pruning's history of the steps so far, and the plan `checkpoints/pruned.ckpt` stores.
HISTORY = "_trainrig_pruning_history"
PLAN = "_trainrig_pruning_plan"


def history(model: nn.Module) -> list[Any]:
    """The pruning steps taken on `model` so far (Torch-Pruning's history)."""
    return list(model.__dict__.get(HISTORY, []))


def _not_both_quantized_and_exported(quantize: str | None, export: str | None, **_: Any) -> None:
    if quantize is not None and export is not None:
        raise ConfigError(
            "compression: export=onnx exports the float model, but quantize makes an int8 one; "
            "choose one of compression.quantize and compression.export"
        )


@option("compression", rule=_not_both_quantized_and_exported)
@dataclass(frozen=True)
class ChannelPruning(CompressionSteps):
    """How many channels to remove, ranked how, in how many rounds, and what follows."""

    criterion: Criterion = "l2"
    amount: Share = 0.5  # of each group's channels (scope=layer) or of all of them (global)
    scope: Literal["layer", "global"] = "layer"
    steps: Annotated[int, Ge(1)] = 1  # rounds of pruning, each followed by the fine-tuning
    finetune_epochs: Annotated[int, Ge(0)] = 3  # after each round
    taylor_batches: Annotated[int, Ge(1)] = 4  # training batches whose gradients rank (taylor)
    distill: bool = False  # fine-tune on the unpruned model's softened logits as well
    temperature: Annotated[float, Gt(0)] = 4.0  # of the distillation
    alpha: Annotated[float, Ge(0), Le(1)] = 0.7  # the distillation loss's weight
    quantize: Literal["dynamic", "static"] | None = None  # then an int8 copy (CPU)
    name: str = "prune_channels"
    export: Export = None

    def prepare(self, classifier: SupervisedModule, data: Any, run: CompressionRun) -> None:
        """Refuse, before training, what cannot be pruned: a trial prunes a copy of the model."""
        pruned_checkpoint.require_torch_pruning(f"compression={self.name}")
        if self.distill and self.finetune_epochs == 0:
            raise ConfigError(
                f"compression={self.name}: distill=true learns from the unpruned model while "
                "fine-tuning, but finetune_epochs=0; set compression.finetune_epochs>=1"
            )
        model = copy.deepcopy(pruned_checkpoint.pruned_model(classifier)).cpu()
        self.check(model, dummy_input(data))

    def check(self, model: nn.Module, example: torch.Tensor) -> None:
        """Prune `model` (consumed: pass a copy) as configured; a ConfigError if it fails."""
        from torch import nn

        batch_norms = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.SyncBatchNorm)
        if self.criterion == "bn_scale" and not any(
            isinstance(m, batch_norms) for m in model.modules()
        ):
            raise ConfigError(
                f"compression={self.name}: criterion=bn_scale ranks channels by their batch-norm "
                "scale, and the model has no batch norm; use criterion=l2 (or l1, taylor)"
            )
        before = _parameters(model)
        with eval_mode(model):
            expected = model(example).shape
        try:
            if self.criterion == "taylor":  # any non-zero gradients will do for a trial
                with eval_mode(model):  # (a constant example's are zero: global ranks none)
                    model(example.new_empty(example.shape).normal_()).square().sum().backward()
            self.prune(model, example, self.amount)
            with eval_mode(model):
                shape = model(example).shape
        except Exception as error:  # Torch-Pruning's or the narrowed model's, named for the user
            raise ConfigError(
                f"compression={self.name}: Torch-Pruning cannot prune this model's channels "
                f"consistently ({type(error).__name__}: {str(error).splitlines()[0]}); use "
                "compression=prune_structured, which zeroes channels without removing them"
            ) from None
        if shape != expected:
            raise ConfigError(
                f"compression={self.name}: pruning changed the model's output shape from "
                f"{tuple(expected)} to {tuple(shape)}; use compression=prune_structured"
            )
        if _parameters(model) == before:
            raise ConfigError(
                f"compression={self.name}: the model has no channels to remove (a conv or linear "
                "layer before the output layer); use compression=prune_global"
            )
        if self.quantize == "static":
            from trainrig.compression.static_quantization import StaticQuantization

            StaticQuantization(name=self.name).check(model, example)

    def prune(self, model: nn.Module, example: torch.Tensor, amount: float) -> None:
        """Remove `amount` of `model`'s channels, ranked by `criterion` (taylor: by the gradients
        the parameters hold); the steps add to `history(model)`."""
        import torch_pruning as tp

        with eval_mode(model):  # tracing runs forward: batch-norm statistics stay as they are
            pruner = tp.pruner.BasePruner(
                model,
                example,
                importance=self.importance(),
                global_pruning=self.scope == "global",
                pruning_ratio=amount,
                max_pruning_ratio=0.9,  # a layer keeps a tenth of its channels, even globally
                ignored_layers=[output_layer(model)],
            )
            pruner.step()
        model.zero_grad(set_to_none=True)
        model.__dict__[HISTORY] = [*history(model), *pruner.pruning_history()]

    def importance(self) -> Any:
        """Torch-Pruning's importance for `criterion`."""
        import torch_pruning as tp

        if self.criterion == "bn_scale":
            return tp.importance.BNScaleImportance()
        if self.criterion == "taylor":
            return tp.importance.TaylorImportance()
        return tp.importance.MagnitudeImportance(p=1 if self.criterion == "l1" else 2)

    def compressed(self, classifier: SupervisedModule, data: Any, run: CompressionRun) -> nn.Module:
        """The classifier with its model narrowed and fine-tuned (an int8 copy with `quantize`)."""
        model = pruned_checkpoint.pruned_model(classifier)
        example = dummy_input(data)
        teacher = copy.deepcopy(classifier).eval() if self.distill else None
        for step in range(self.steps):
            done = self.amount * step / self.steps  # of the original channels, pruned already
            share = (self.amount * (step + 1) / self.steps - done) / (1 - done)
            classifier.cpu()
            if self.criterion == "taylor":
                self._taylor_gradients(classifier, data)
            self.prune(model, example, share)
            if self.finetune_epochs:
                self._finetune(classifier, teacher, data, run)
        classifier = classifier.cpu()
        model.__dict__[PLAN] = pruned_checkpoint.plan(history(model), data.input_shape)
        return classifier if self.quantize is None else self._quantized(classifier, data)

    def _taylor_gradients(self, classifier: SupervisedModule, data: Any) -> None:
        """Gradients of the training loss on `taylor_batches` batches, through the classifier."""
        import torch

        classifier.zero_grad(set_to_none=True)
        with eval_mode(classifier), torch.enable_grad():
            for x, y in itertools.islice(data.train_dataloader(), self.taylor_batches):
                inputs = x.to(torch.float32) * classifier.rescale
                classifier.task.loss(classifier(inputs), y).backward()

    def _finetune(
        self,
        classifier: SupervisedModule,
        teacher: SupervisedModule | None,
        data: Any,
        run: CompressionRun,
    ) -> None:
        from trainrig.compression.distillation import Distiller

        if teacher is not None:
            classifier.distiller = Distiller(teacher, self.temperature, self.alpha)
        try:
            run.finetune(classifier, data, self.finetune_epochs)
        finally:
            classifier.distiller = None

    def _quantized(self, classifier: SupervisedModule, data: Any) -> nn.Module:
        """An int8 copy of the pruned classifier, as quantize_dynamic or quantize_static make."""
        import torch

        if self.quantize == "dynamic":
            from trainrig.compression.quantization import DynamicQuantization

            quantized = DynamicQuantization(name=self.name).quantized(classifier)
        else:
            from trainrig.compression.static_quantization import StaticQuantization

            batches = (x.to(torch.float32) * classifier.rescale for x, _ in data.train_dataloader())
            quantized = StaticQuantization(name=self.name).quantized(classifier, batches)
        quantized.rescale = classifier.rescale  # type: ignore[assignment]
        return quantized

    def save(
        self, compressed: nn.Module, classifier: SupervisedModule, run: CompressionRun
    ) -> None:
        """`checkpoints/pruned.ckpt`: the pruned float classifier, which `trainrig eval` takes."""
        path = run.checkpoint_dir / pruned_checkpoint.PRUNED_CHECKPOINT
        plan = pruned_checkpoint.pruned_model(classifier).__dict__[PLAN]
        pruned_checkpoint.write(classifier, plan, run.config, path)


def output_layer(model: nn.Module) -> nn.Module:
    """The last conv or linear layer of `model`: its outputs are the classes, never pruned."""
    from torch import nn

    layers = [m for m in model.modules() if isinstance(m, nn.modules.conv._ConvNd | nn.Linear)]
    if not layers:
        raise ConfigError(
            "compression=prune_channels: the model has no conv or linear layer to prune; use "
            "compression=none"
        )
    return layers[-1]


def _parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@contextlib.contextmanager
def eval_mode(model: nn.Module) -> Iterator[None]:
    """Eval mode inside the block (batch-norm statistics stay), every module's mode restored."""
    modes = {module: module.training for module in model.modules()}
    model.eval()
    try:
        yield
    finally:
        for module, training in modes.items():
            module.training = training
