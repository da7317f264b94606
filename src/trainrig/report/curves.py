"""Per-epoch training curves from a run's `csv/metrics.csv` (Lightning's CSVLogger).

The classifier logs once per epoch; the learning-rate monitor logs at each schedule's interval on
rows without an epoch, so its steps become fractions of an epoch (step 3 of 3-step epochs is 1.0).
Rows after the last training epoch (the best checkpoint validated and tested once more) are left
out of the curves.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

TRAIN_LOSS = "train/loss"
LR = "train/lr"
EPOCH_METRICS = (TRAIN_LOSS, "val/loss", "train/acc", "val/acc")

Row = dict[str, float]


@dataclass
class Curves:
    """metric -> (epochs trained, values), so epoch metrics and the lr share one x axis; empty
    when the run kept no CSV log."""

    series: dict[str, tuple[list[float], list[float]]] = field(default_factory=dict)

    def has(self, metric: str) -> bool:
        return bool(self.series.get(metric, ([], []))[0])


def _rows(path: Path) -> list[Row]:
    """The CSV's rows with their empty cells left out and the rest as numbers."""
    with path.open(newline="") as f:
        return [{k: float(v) for k, v in row.items() if v} for row in csv.DictReader(f)]


def read_curves(path: Path) -> Curves:
    """The curves in the CSV log at `path` (none if the file is missing)."""
    if not path.is_file():
        return Curves()
    rows = _rows(path)
    train_rows = [r for r in rows if TRAIN_LOSS in r and "epoch" in r]
    if not train_rows:
        return Curves()
    trained = {r["epoch"] for r in train_rows}
    curves = Curves({metric: ([], []) for metric in (*EPOCH_METRICS, LR)})
    for row in rows:
        for metric in EPOCH_METRICS:
            epochs, values = curves.series[metric]
            done = row.get("epoch", -1) + 1  # epochs trained when the value was logged
            if metric in row and done - 1 in trained and done not in epochs:
                epochs.append(done)
                values.append(row[metric])
    steps_per_epoch = train_rows[0]["step"] + 1  # logged at the last step of epoch 0
    end_of_training = train_rows[-1]["step"] + 1
    for row in rows:
        if LR in row and row.get("step", end_of_training) < end_of_training:
            curves.series[LR][0].append(row["step"] / steps_per_epoch)
            curves.series[LR][1].append(row[LR])
    return curves
