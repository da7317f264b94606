"""Tabular data from a CSV file with a header row: numeric feature columns and a label column."""

from __future__ import annotations

import csv
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from trainrig.config.errors import ConfigError
from trainrig.config.signature import option
from trainrig.data.option_rules import (
    BatchSize,
    Fraction,
    Mean,
    Seed,
    Std,
    stats_and_fractions,
)

if TYPE_CHECKING:
    import torch

    from trainrig.data.in_memory import InMemoryDataModule

log = logging.getLogger(__name__)


def read_table(
    path: Path, label_column: str, feature_columns: Sequence[str] | None, delimiter: str
) -> tuple[torch.Tensor, list[str], list[str]]:
    """Features as float32 (N, F), the label column's raw values, and the sorted class names."""
    import torch

    if not path.is_file():
        raise ConfigError(
            f"data.path: no CSV file at {path}; set data.path=FILE.csv, a table with a header row"
        )
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f, delimiter=delimiter)
        columns = list(reader.fieldnames or [])
        if label_column not in columns:
            raise ConfigError(
                f"data.label_column: {path} has no column {label_column!r}; "
                f"its columns are {', '.join(columns) or '(none: is the header row missing?)'}"
            )
        features = list(feature_columns or [c for c in columns if c != label_column])
        unknown = [c for c in features if c not in columns]
        if unknown:
            raise ConfigError(
                f"data.feature_columns: {path} has no column {', '.join(map(repr, unknown))}; "
                f"its columns are {', '.join(columns)}"
            )
        rows, labels = [], []
        for line, row in enumerate(reader, start=2):
            try:
                rows.append([float(row[c]) for c in features])
            except (TypeError, ValueError):
                bad = next(c for c in features if not _is_number(row[c]))
                raise ConfigError(
                    f"data.path: {path} line {line}, column {bad!r}: {row[bad]!r} is not a number"
                ) from None
            labels.append(row[label_column])
    if not rows:
        raise ConfigError(f"data.path: {path} has a header but no data rows")
    return torch.tensor(rows, dtype=torch.float32), labels, sorted(set(labels))


def _is_number(text: str | None) -> bool:
    try:
        float(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    return True


@option("data", rule=stats_and_fractions)
def build_csv(
    path: str,
    label_column: str,
    feature_columns: Sequence[str] | None = None,
    delimiter: str = ",",
    batch_size: BatchSize = 64,
    val_fraction: Fraction = 0.15,
    test_fraction: Fraction = 0.15,
    normalize: bool = True,
    mean: Mean = None,
    std: Std = None,
    split_seed: Seed = 0,
) -> InMemoryDataModule:
    """A classification table: features standardized per column (`normalize`, with the training
    split's mean/std), labels mapped to class indices. `feature_columns` None: every column but
    the label."""
    import torch

    from trainrig.data.in_memory import InMemoryDataModule
    from trainrig.data.splits import stratified_split

    x, labels, classes = read_table(Path(path), label_column, feature_columns, delimiter)
    index = {name: i for i, name in enumerate(classes)}
    y = torch.tensor([index[label] for label in labels], dtype=torch.long)
    train, val, test = stratified_split(x, y, val_fraction, test_fraction, split_seed)
    module = InMemoryDataModule(
        train, val, test, len(classes), batch_size, normalize, 1.0, mean, std
    )
    log.info("csv %s: %d features, classes %s, %s", path, x.shape[1], classes, module.split_sizes())
    return module
