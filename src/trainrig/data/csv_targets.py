"""A CSV's label columns as the task's targets: class indices, regression values or 0/1 labels."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trainrig.config.errors import ConfigError
from trainrig.data.targets import Targets

if TYPE_CHECKING:
    import torch

Rows = list[tuple[int, list[str]]]  # (line number in the file, the label columns' texts)
MIN_CLASSES_SEEN_AS_CONTINUOUS = 20  # more distinct numbers than this (and than 10% of the rows)


def label_columns(label_column: str | Sequence[str], targets: Targets) -> list[str]:
    """The label column names; several only for multi-hot labels or several regression values."""
    columns = [label_column] if isinstance(label_column, str) else [str(c) for c in label_column]
    if targets == "classes" and len(columns) > 1:
        raise ConfigError(
            f"data.label_column: {len(columns)} label columns ({', '.join(columns)}) give each "
            "sample several labels, which task=classification cannot learn: use task=multilabel "
            "(each column 0/1) or task=regression (numbers), or name one column"
        )
    return columns


def check_label_column(label_column: Any) -> None:
    """`label_column` is a column name or a non-empty list of them (config rule)."""
    names = [label_column] if isinstance(label_column, str) else label_column
    if (
        not isinstance(names, Sequence)
        or not names
        or not all(isinstance(n, str) and n for n in names)
    ):
        raise ConfigError(
            "data.label_column: expected a column name or a list of column names, "
            f"got {label_column!r}"
        )


def class_indices(path: Path, column: str, rows: Rows) -> tuple[torch.Tensor, list[str]]:
    """int64 class indices (N,) and the sorted class names; a continuous target is refused."""
    import torch

    texts = [row[0] for _, row in rows]
    _refuse_continuous(path, column, texts)
    classes = sorted(set(texts))
    index = {name: i for i, name in enumerate(classes)}
    return torch.tensor([index[text] for text in texts], dtype=torch.long), classes


def _refuse_continuous(path: Path, column: str, texts: list[str]) -> None:
    """Every label a number, and some not whole or more distinct than a class count would be."""
    numbers = [_number(text) for text in texts]
    if any(n is None for n in numbers):
        return
    distinct = set(numbers)
    many = len(distinct) > max(MIN_CLASSES_SEEN_AS_CONTINUOUS, len(texts) // 10)
    if many or not all(n is not None and n.is_integer() for n in distinct):
        raise ConfigError(
            f"data.label_column: column {column!r} of {path} holds {len(distinct)} distinct "
            "numbers, a continuous target; task=classification would make each one a class: "
            "use task=regression"
        )


def values(path: Path, columns: list[str], rows: Rows) -> torch.Tensor:
    """Regression targets, float32 (N, number of label columns)."""
    import torch

    parsed = [[_finite(path, line, c, text) for c, text in zip(columns, row, strict=True)]
              for line, row in rows]  # fmt: skip
    return torch.tensor(parsed, dtype=torch.float32)


def multi_hot(path: Path, columns: list[str], rows: Rows) -> torch.Tensor:
    """Multi-label targets, float32 0/1 (N, number of label columns)."""
    import torch

    parsed = [[_zero_or_one(path, line, c, text) for c, text in zip(columns, row, strict=True)]
              for line, row in rows]  # fmt: skip
    return torch.tensor(parsed, dtype=torch.float32)


def _number(text: str | None) -> float | None:
    try:
        return float(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _finite(path: Path, line: int, column: str, text: str) -> float:
    number = _number(text)
    if number is None or not math.isfinite(number):
        raise ConfigError(
            f"data.label_column: {path} line {line}, column {column!r}: {text!r} is not a finite "
            "number; task=regression reads each label column as numbers"
        )
    return number


def _zero_or_one(path: Path, line: int, column: str, text: str) -> float:
    number = _number(text)
    if number is None or number not in (0.0, 1.0):
        raise ConfigError(
            f"data.label_column: {path} line {line}, column {column!r}: {text!r} is not 0 or 1; "
            "task=multilabel reads each label column as 0 (absent) or 1 (present)"
        )
    return number
