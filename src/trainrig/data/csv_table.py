"""Tabular data from a CSV file with a header row: numeric feature columns and label columns."""

from __future__ import annotations

import csv
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trainrig.config.errors import ConfigError
from trainrig.config.signature import option
from trainrig.data.csv_targets import Rows, check_label_column, label_columns
from trainrig.data.option_rules import (
    BatchSize,
    Fraction,
    Mean,
    Seed,
    Std,
    stats_and_fractions,
)
from trainrig.data.targets import Targets

if TYPE_CHECKING:
    import torch

    from trainrig.data.in_memory import InMemoryDataModule

log = logging.getLogger(__name__)


def read_table(
    path: Path, labels: Sequence[str], feature_columns: Sequence[str] | None, delimiter: str
) -> tuple[torch.Tensor, Rows]:
    """Features as float32 (N, F), and each row's line number and label columns' raw texts."""
    import torch

    if not path.is_file():
        raise ConfigError(
            f"data.path: no CSV file at {path}; set data.path=FILE.csv, a table with a header row"
        )
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f, delimiter=delimiter)
        columns = list(reader.fieldnames or [])
        missing = [c for c in labels if c not in columns]
        if missing:
            raise ConfigError(
                f"data.label_column: {path} has no column {', '.join(map(repr, missing))}; "
                f"its columns are {', '.join(columns) or '(none: is the header row missing?)'}"
            )
        features = list(feature_columns or [c for c in columns if c not in labels])
        unknown = [c for c in features if c not in columns]
        if unknown:
            raise ConfigError(
                f"data.feature_columns: {path} has no column {', '.join(map(repr, unknown))}; "
                f"its columns are {', '.join(columns)}"
            )
        rows, label_rows = [], []
        for row in reader:
            try:
                rows.append([float(row[c]) for c in features])
            except (TypeError, ValueError):
                bad = next(c for c in features if not _is_number(row[c]))
                raise ConfigError(
                    f"data.path: {path} line {reader.line_num}, column {bad!r}: {row[bad]!r} "
                    "is not a number"
                ) from None
            label_rows.append((reader.line_num, [row[c] for c in labels]))
    if not rows:
        raise ConfigError(f"data.path: {path} has a header but no data rows")
    return torch.tensor(rows, dtype=torch.float32), label_rows


def _is_number(text: str | None) -> bool:
    try:
        float(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    return True


def _csv_rule(**options: Any) -> None:
    stats_and_fractions(**options)
    check_label_column(options["label_column"])


@option("data", rule=_csv_rule)
def build_csv(
    targets: Targets = "classes",
    /,
    *,
    path: str,
    label_column: str | Sequence[str],
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
    """A table: features standardized per column (`normalize`, with the training split's
    mean/std); `feature_columns` None: every column but the labels.

    `targets` (the task's, `data/targets.py`): `classes` maps one label column's values to class
    indices and splits stratified (a column of many distinct or fractional numbers is refused as
    a continuous target); `values` reads the label column(s) as float regression targets and
    `labels` reads each label column as one 0/1 label; both split at random.
    """
    from trainrig.data import csv_targets
    from trainrig.data.in_memory import InMemoryDataModule
    from trainrig.data.splits import random_split, stratified_split

    table = Path(path)
    columns = label_columns(label_column, targets)
    x, rows = read_table(table, columns, feature_columns, delimiter)
    classes: list[str] = []
    if targets == "classes":
        y, classes = csv_targets.class_indices(table, columns[0], rows)
        outputs, described = len(classes), f"classes {classes}"
        train, val, test = stratified_split(x, y, val_fraction, test_fraction, split_seed)
    else:
        read = csv_targets.values if targets == "values" else csv_targets.multi_hot
        y = read(table, columns, rows)
        outputs, described = len(columns), f"{targets} {columns}"
        train, val, test = random_split(x, y, val_fraction, test_fraction, split_seed)
    stats = (normalize, 1.0, mean, std)
    module = InMemoryDataModule(train, val, test, outputs, batch_size, *stats, targets=targets)
    module.output_names = classes if targets == "classes" else columns
    log.info("csv %s: %d features, %s, %s", path, x.shape[1], described, module.split_sizes())
    return module
