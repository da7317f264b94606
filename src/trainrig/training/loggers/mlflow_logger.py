"""`logger=mlflow`: an MLflow run, in a store inside the run directory unless a URI is given.

MLflow 3 keeps its plain-file store (`./mlruns`) in maintenance mode and refuses it unless
MLFLOW_ALLOW_FILE_STORE=true, so the local default is an SQLite file, `<run>/mlflow/mlflow.db`,
with artifacts in `<run>/mlflow/artifacts`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from trainrig.config.optional_packages import require_extra
from trainrig.config.signature import option

if TYPE_CHECKING:
    from trainrig.training.loggers.held_metrics import HeldMLFlowLogger

LOCAL_STORE_DIR = "mlflow"


def local_tracking_uri(run_dir: Path) -> str:
    """The tracking URI of the store a run keeps in its own directory."""
    return f"sqlite:///{(run_dir / LOCAL_STORE_DIR / 'mlflow.db').resolve()}"


def mlflow_installed(**_: object) -> None:
    """logger=mlflow needs the mlflow extra."""
    require_extra("mlflow", "mlflow", "logger=mlflow")


@option("logger", rule=mlflow_installed)
def build_mlflow_logger(
    save_dir: str,
    /,
    experiment_name: str = "trainrig",
    run_name: str | None = None,
    tracking_uri: str | None = None,
    artifact_location: str | None = None,
    tags: dict[str, str] | None = None,
) -> HeldMLFlowLogger:
    """Lightning's MLFlowLogger, holding a step's metrics until a checkpoint covers it (a
    resumed run logs each step once: held_metrics.py); without `tracking_uri` (else any MLflow
    URI, http://host:5000), an SQLite store in `<save_dir>/mlflow/`; `run_name` null: the run
    directory's name; `artifact_location` null: `<save_dir>/mlflow/artifacts` locally, the
    server's choice else."""
    require_extra("mlflow", "mlflow", "logger=mlflow")
    from trainrig.training.loggers.held_metrics import HeldMLFlowLogger

    run_dir = Path(save_dir)
    if tracking_uri is None:
        (run_dir / LOCAL_STORE_DIR).mkdir(parents=True, exist_ok=True)
        tracking_uri = local_tracking_uri(run_dir)
        if artifact_location is None:
            artifact_location = str((run_dir / LOCAL_STORE_DIR / "artifacts").resolve())
    run_name = run_name or run_dir.name
    return HeldMLFlowLogger(
        experiment_name=experiment_name,
        run_name=run_name,
        tracking_uri=tracking_uri,
        artifact_location=artifact_location,
        tags=tags,
        run_id=existing_run_id(tracking_uri, experiment_name, run_name),
    )


def existing_run_id(tracking_uri: str, experiment_name: str, run_name: str) -> str | None:
    """The MLflow run an earlier start of this run made (`trainrig resume`), to carry on in it."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri)
    experiment = client.get_experiment_by_name(experiment_name)
    if experiment is None:
        return None
    quoted = run_name.replace("'", "\\'")
    runs = client.search_runs(
        [experiment.experiment_id], f"attributes.run_name = '{quoted}'", max_results=1
    )
    return str(runs[0].info.run_id) if runs else None
