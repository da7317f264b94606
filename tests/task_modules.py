"""A SupervisedModule for classification built the way the runner builds one, for unit tests."""

from __future__ import annotations

import functools
from typing import Any

from torch import nn

from trainrig.tasks.metrics import build_metrics
from trainrig.tasks.options import Classification
from trainrig.training.supervised import SupervisedModule


def classification_module(model: nn.Module, num_classes: int, **options: Any) -> SupervisedModule:
    """`model` trained for single-label classification over `num_classes`, accuracy its metric."""
    task = Classification()
    make_metrics = functools.partial(build_metrics, task, None, num_classes)
    return SupervisedModule(model, task, make_metrics, **options)
