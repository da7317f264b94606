"""A CSV logger for runs that resume: the rows of the earlier start stay.

Lightning's CSV writer deletes `metrics.csv` when it starts in a folder that holds one (it warns
so); this writer keeps the file and its header, and can drop the rows of the steps a resumed run
trains again (`keep_steps_before`, called by resumed_records.py's `KeepRecordsOfResumedSteps`).
"""

from __future__ import annotations

import csv
import io
import os
import warnings
from collections.abc import Iterable
from pathlib import Path

from lightning_fabric.loggers.logger import rank_zero_experiment
from pytorch_lightning.loggers import CSVLogger
from pytorch_lightning.loggers.csv_logs import ExperimentWriter

from trainrig.rundir.results import write_atomic


class AppendingWriter(ExperimentWriter):
    """Lightning's CSV writer that keeps the rows and the columns a previous start wrote."""

    def __init__(self, log_dir: str) -> None:
        path = Path(log_dir) / self.NAME_METRICS_FILE
        kept = path.with_name(f".{path.name}.kept")
        if path.is_file():  # a second name for the file while Lightning deletes the first
            kept.unlink(missing_ok=True)
            os.link(path, kept)
        with warnings.catch_warnings():  # "previous log files will be deleted": not here
            warnings.simplefilter("ignore")
            super().__init__(log_dir)
        if kept.is_file():
            os.replace(kept, path)
            with path.open(newline="", encoding="utf-8") as file:
                self.metrics_keys = sorted(next(csv.reader(file), []))

    def keep_steps_before(self, step: int) -> None:
        """Drop the saved rows of `step` and later: the run trains them again."""
        path = Path(self.metrics_file_path)
        if not path.is_file():
            return
        with path.open(newline="", encoding="utf-8") as file:
            reader = csv.DictReader(file)
            fields, rows = list(reader.fieldnames or []), list(reader)
        kept = [row for row in rows if row.get("step") and float(row["step"]) < step]
        if len(kept) == len(rows):
            return
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(kept)
        write_atomic(path, out.getvalue())

    def has_row(self, step: int, keys: Iterable[str]) -> bool:
        """Whether the saved file holds a row of `step` with a value for each of `keys`."""
        path = Path(self.metrics_file_path)
        if not path.is_file():
            return False
        with path.open(newline="", encoding="utf-8") as file:
            rows = list(csv.DictReader(file))
        wanted = list(keys)
        return any(
            row.get("step") and float(row["step"]) == step and all(row.get(k) for k in wanted)
            for row in rows
        )


class ResumableCSVLogger(CSVLogger):
    """Lightning's CSVLogger with the `AppendingWriter`."""

    @property
    @rank_zero_experiment
    def experiment(self) -> AppendingWriter:
        """The writer, made on first use (a rank other than 0 gets Lightning's stand-in).

        Lightning's property makes its own writer; this one mirrors it with the appending
        writer, holding it in the `_experiment` attribute every Lightning logger keeps its
        experiment in (guarded by tests/test_private_api_guards.py).
        """
        writer = self._experiment
        if not isinstance(writer, AppendingWriter):
            os.makedirs(self.root_dir, exist_ok=True)
            writer = AppendingWriter(log_dir=self.log_dir)
            self._experiment = writer
        return writer
