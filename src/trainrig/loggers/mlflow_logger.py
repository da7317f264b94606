"""`logger=mlflow`: an MLflow run, in a store inside the run directory unless a URI is given.

MLflow 3 keeps its plain-file store (`./mlruns`) in maintenance mode and refuses it unless
MLFLOW_ALLOW_FILE_STORE=true, so the local default is an SQLite file, `<run>/mlflow/mlflow.db`,
with artifacts in `<run>/mlflow/artifacts`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from trainrig.optional_packages import require_extra

if TYPE_CHECKING:
    from pytorch_lightning.loggers import MLFlowLogger

LOCAL_STORE_DIR = "mlflow"


def local_tracking_uri(run_dir: Path) -> str:
    """The tracking URI of the store a run keeps in its own directory."""
    return f"sqlite:///{(run_dir / LOCAL_STORE_DIR / 'mlflow.db').resolve()}"


def build_mlflow_logger(
    save_dir: str,
    experiment_name: str = "trainrig",
    run_name: str | None = None,
    tracking_uri: str | None = None,
    artifact_location: str | None = None,
    tags: dict[str, str] | None = None,
) -> MLFlowLogger:
    """Lightning's MLFlowLogger; without `tracking_uri`, a store in `<save_dir>/mlflow/`."""
    require_extra("mlflow", "mlflow", "logger=mlflow")
    from pytorch_lightning.loggers import MLFlowLogger

    run_dir = Path(save_dir)
    if tracking_uri is None:
        (run_dir / LOCAL_STORE_DIR).mkdir(parents=True, exist_ok=True)
        tracking_uri = local_tracking_uri(run_dir)
        if artifact_location is None:
            artifact_location = str((run_dir / LOCAL_STORE_DIR / "artifacts").resolve())
    return MLFlowLogger(
        experiment_name=experiment_name,
        run_name=run_name or run_dir.name,
        tracking_uri=tracking_uri,
        artifact_location=artifact_location,
        tags=tags,
    )
