"""Weight pruning with torch.nn.utils.prune over a model's conv and linear weights.

`global_l1` ranks every weight of every layer together and zeroes the smallest `amount` of them;
`l1` and `random` zero `amount` of each layer's weights; `structured` zeroes whole output channels
(conv) or neurons (linear) by their Ln norm. The masks stay in place during fine-tuning, so pruned
weights stay zero; `make_permanent` then folds them into the weights before saving. The fields'
annotations are the `compression=prune_*` options' schema; torch is imported inside the methods.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

from annotated_types import Ge, Lt

from trainrig.compression.onnx_files import Export
from trainrig.compression.run import CompressionSteps
from trainrig.config.signature import option

if TYPE_CHECKING:
    from torch import nn

    from trainrig.training.hooks import CompressionRun
    from trainrig.training.supervised import SupervisedModule

Share = Annotated[float, Ge(0), Lt(1)]  # of the weights pruned


def is_prunable(module: nn.Module) -> bool:
    """Whether pruning covers `module`: conv and linear layers (their `weight`)."""
    from torch import nn

    return isinstance(module, nn.Conv1d | nn.Conv2d | nn.Conv3d | nn.Linear)


@option("compression")
@dataclass(frozen=True)
class Pruning(CompressionSteps):
    """What to prune and how much; built from the `compression` group (`compression=prune_*`)."""

    method: Literal["global_l1", "l1", "random", "structured"] = "global_l1"
    amount: Share = 0.8
    finetune_epochs: Annotated[int, Ge(0)] = 3  # with the masks on: pruned weights stay zero
    norm: Annotated[int, Ge(1)] = 2  # for `structured`: the Ln norm that ranks channels
    name: str = "prune"
    export: Export = None
    any_task: ClassVar[bool] = True

    def apply(self, model: nn.Module) -> None:
        """Attach the pruning masks to every prunable layer's weight of `model`."""
        from torch.nn.utils import prune

        layers = [(m, "weight") for m in model.modules() if is_prunable(m)]
        if self.method == "global_l1":
            prune.global_unstructured(
                layers, pruning_method=prune.L1Unstructured, amount=self.amount
            )
            return
        for module, weight in layers:
            if self.method == "l1":
                prune.l1_unstructured(module, weight, amount=self.amount)
            elif self.method == "random":
                prune.random_unstructured(module, weight, amount=self.amount)
            else:
                prune.ln_structured(module, weight, amount=self.amount, n=self.norm, dim=0)

    def compressed(self, classifier: SupervisedModule, data: Any, run: CompressionRun) -> nn.Module:
        """The model pruned in place, fine-tuned with the masks on, masks folded in: trainrig's
        classifier's `model`, or a user's whole LightningModule."""
        model = (
            getattr(classifier, "model", classifier) if _is_supervised(classifier) else classifier
        )
        self.apply(model)
        if self.finetune_epochs:
            run.finetune(classifier, data, self.finetune_epochs)
        make_permanent(model)
        return classifier.cpu()


def _is_supervised(module: nn.Module) -> bool:
    from trainrig.training.supervised import SupervisedModule

    return isinstance(module, SupervisedModule)


def make_permanent(model: nn.Module) -> None:
    """Fold every pruning mask into its weight, so the model saves and loads as a plain one."""
    from torch.nn.utils import prune

    for module in model.modules():
        if prune.is_pruned(module) and hasattr(module, "weight_mask"):
            prune.remove(module, "weight")
