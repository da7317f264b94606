"""What a built-in task needs to know of its data: one sample's shape, the number of outputs and
what the targets are. trainrig's data modules say it themselves; a user's LightningDataModule
may too (`input_shape`, `num_outputs` or `num_classes`, `targets`), else one training batch
shows it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from trainrig.config.errors import ConfigError
from trainrig.data.targets import Targets
from trainrig.tasks.options import SupervisedTask

PAIR = 2  # a batch of (inputs, targets)


@dataclass(frozen=True)
class DataInfo:
    input_shape: tuple[int, ...]
    num_outputs: int
    targets: Targets


def data_info(data: Any, task: SupervisedTask) -> DataInfo:
    """The data's shape, outputs and targets for `task`; refused when they do not fit it."""
    shape = getattr(data, "input_shape", None)
    outputs = getattr(data, "num_outputs", None) or getattr(data, "num_classes", None)
    targets = getattr(data, "targets", None)
    if shape is None or outputs is None or targets is None:
        first_shape, first_outputs, first_targets = _from_a_batch(data, task)
        shape = shape or first_shape
        outputs = outputs or first_outputs
        targets = targets or first_targets
    if targets != task.targets:
        raise ConfigError(
            f"task={task.kind} needs targets that are {task.targets}, but the data gives "
            f"{targets}: choose the task that fits the data (classification: class indices, "
            "multilabel: 0/1 label columns, regression: values)"
        )
    return DataInfo(tuple(shape), int(outputs), targets)


def first_batch(data: Any) -> Any:
    """One batch of a data module's training loader (its setup run first)."""
    data.prepare_data()
    data.setup("fit")
    return next(iter(data.train_dataloader()))


def is_pair(batch: Any) -> bool:
    return (
        isinstance(batch, list | tuple)
        and len(batch) == PAIR
        and all(isinstance(part, torch.Tensor) for part in batch)
    )


def _from_a_batch(data: Any, task: SupervisedTask) -> tuple[tuple[int, ...], int, Targets]:
    batch = first_batch(data)
    name = type(data).__name__
    if not is_pair(batch):
        raise ConfigError(
            f"data: {name}'s batches are {type(batch).__name__}, not (inputs, targets) tensors; "
            f"task={task.kind} trains on such pairs: give them, or use task=lightning_module "
            "with a LightningModule of your own"
        )
    x, y = batch
    if y.is_floating_point():
        targets: Targets = "values" if task.targets == "values" else "labels"
        if targets == "labels" and not bool(((y == 0) | (y == 1)).all()):
            targets = "values"
        outputs = 1 if y.dim() == 1 else int(y.shape[1])
    else:
        targets = "classes" if y.dim() == 1 else "labels"
        if targets == "classes" and not getattr(data, "num_classes", None):
            raise ConfigError(
                f"data: {name} gives class indices but does not say how many classes there are "
                "(one batch cannot show it): give it a `num_classes` attribute"
            )
        outputs = int(getattr(data, "num_classes", 0) or y.shape[-1])
    return tuple(x.shape[1:]), outputs, targets


def loader_target_stats(data: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-column mean and std of the training loader's targets (a user's data module that does
    not give `target_stats` itself): one pass over its training batches."""
    targets = torch.cat(
        [batch[1].reshape(len(batch[1]), -1).float() for batch in data.train_dataloader()]
    )
    return targets.mean(0), targets.std(0).clamp_min(1e-6)
