"""`logger=csv`: metrics as CSV in `<run>/csv/metrics.csv`, kept whole across resumes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from annotated_types import Ge

from trainrig.config.signature import option

if TYPE_CHECKING:
    from trainrig.training.loggers.resumable_csv import ResumableCSVLogger


@option("logger")
def build_csv_logger(
    save_dir: str, /, name: str = "csv", flush_logs_every_n_steps: Annotated[int, Ge(1)] = 100
) -> ResumableCSVLogger:
    """Lightning's CSVLogger writing straight into `<save_dir>/<name>/`, which appends to the
    file a resumed run left (Lightning's deletes it) and drops the rows of steps the resumed
    checkpoint does not hold, so each epoch is recorded once, from epoch 0."""
    from trainrig.training.loggers.resumable_csv import ResumableCSVLogger

    return ResumableCSVLogger(
        save_dir, name=name, version="", flush_logs_every_n_steps=flush_logs_every_n_steps
    )
