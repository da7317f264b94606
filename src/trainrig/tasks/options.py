"""The `task` group's options: what the model's outputs mean, its loss and its targets.

`classification` (one class per sample), `multilabel` (any number of labels per sample) and
`regression` (one or more continuous values) wrap any `nn.Module` builder of the `model` group,
which gets the input shape and the number of outputs. `lightning_module` runs a user's own
LightningModule (the `model` node builds it) and data module as they are. Each option is a frozen
dataclass whose fields are its config keys; torch is imported inside the methods.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, ClassVar, Literal

from annotated_types import Ge, Gt, Lt

from trainrig.config.signature import option

if TYPE_CHECKING:
    from torch import Tensor

from trainrig.data.targets import Targets


@option("task")
@dataclass(frozen=True)
class Classification:
    """Single-label classification: cross-entropy over the classes; targets are class indices
    (or the soft targets of a mixed batch, e.g. mixup)."""

    label_smoothing: Annotated[float, Ge(0), Lt(1)] = 0.0
    kind: ClassVar[str] = "classification"
    targets: ClassVar[Targets] = "classes"

    def loss(self, outputs: Tensor, targets: Tensor) -> Tensor:
        import torch.nn.functional as F

        return F.cross_entropy(outputs, targets, label_smoothing=self.label_smoothing)

    def for_metrics(self, outputs: Tensor, targets: Tensor) -> tuple[Tensor, Tensor]:
        """(logits, class indices), the latter also from soft targets."""
        return outputs, targets.argmax(dim=1) if targets.dim() == 2 else targets


@option("task")
@dataclass(frozen=True)
class Multilabel:
    """Multi-label classification: an independent sigmoid per label (binary cross-entropy);
    targets are multi-hot rows. `threshold` turns probabilities into labels for the metrics."""

    threshold: Annotated[float, Gt(0), Lt(1)] = 0.5
    kind: ClassVar[str] = "multilabel"
    targets: ClassVar[Targets] = "labels"

    def loss(self, outputs: Tensor, targets: Tensor) -> Tensor:
        import torch.nn.functional as F

        return F.binary_cross_entropy_with_logits(outputs, targets.to(outputs.dtype))

    def for_metrics(self, outputs: Tensor, targets: Tensor) -> tuple[Tensor, Tensor]:
        """(probabilities, 0/1 labels)."""
        return outputs.sigmoid(), targets.round().long()


@option("task")
@dataclass(frozen=True)
class Regression:
    """Regression of one or more continuous values: `mse`, `mae` (L1) or `huber` loss. The
    model's outputs are de-standardized with the training targets' mean and std (part of
    `forward`, as input normalization is), so it learns on a unit scale and predicts raw values."""

    loss_function: Literal["mse", "mae", "huber"] = "mse"
    kind: ClassVar[str] = "regression"
    targets: ClassVar[Targets] = "values"

    def loss(self, outputs: Tensor, targets: Tensor) -> Tensor:
        import torch.nn.functional as F

        targets = targets.view_as(outputs).to(outputs.dtype)
        if self.loss_function == "mae":
            return F.l1_loss(outputs, targets)
        if self.loss_function == "huber":
            return F.huber_loss(outputs, targets)
        return F.mse_loss(outputs, targets)

    def for_metrics(self, outputs: Tensor, targets: Tensor) -> tuple[Tensor, Tensor]:
        """(predictions, targets), one column squeezed to a vector as torchmetrics expects."""
        targets = targets.view_as(outputs).to(outputs.dtype)
        if outputs.dim() == 2 and outputs.shape[1] == 1:
            return outputs.squeeze(1), targets.squeeze(1)
        return outputs, targets


@option("task")
@dataclass(frozen=True)
class LightningModuleTask:
    """A user's own LightningModule (built by the `model` node) and LightningDataModule (the
    `data` node), trained as they are; trainrig supplies the rest (docs/your-own-code.md)."""

    kind: ClassVar[str] = "lightning_module"


SupervisedTask = Classification | Multilabel | Regression
Task = SupervisedTask | LightningModuleTask
