"""The `logger` options on a real smoke run: TensorBoard, MLflow and CSV at once, same names."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from omegaconf import DictConfig

from .conftest import run_trainrig

# Logged every epoch by the classifier and the learning-rate monitor, under one name everywhere.
EPOCH_METRICS = {"train/loss", "train/acc", "val/loss", "val/acc", "train/lr"}


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One smoke run logging to CSV, TensorBoard and MLflow (local store) together."""
    cwd = tmp_path_factory.mktemp("loggers")
    result = run_trainrig(
        "train", "trainer=smoke", "logger=[csv,tensorboard,mlflow]", "optimizer.lr=0.0123", cwd=cwd
    )
    assert result.returncode == 0, result.stderr
    (found,) = (cwd / "outputs" / "train" / "runs").iterdir()
    return found


def test_tensorboard_events_hold_the_logged_scalars(run_dir: Path) -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    tags: set[str] = set()
    losses: list[float] = []
    for events in sorted((run_dir / "tensorboard").glob("events.out.tfevents.*")):
        accumulator = EventAccumulator(str(events))
        accumulator.Reload()
        tags |= set(accumulator.Tags()["scalars"])
        if "train/loss" in accumulator.Tags()["scalars"]:
            losses = [event.value for event in accumulator.Scalars("train/loss")]
    assert tags >= EPOCH_METRICS | {"test/acc", "test/loss"}, tags
    assert len(losses) == 2  # trainer=smoke: two epochs, one value each
    assert "hp_metric" not in tags


def test_tensorboard_gets_the_config_as_flat_hyperparameters(run_dir: Path) -> None:
    hparams = yaml.safe_load((run_dir / "tensorboard" / "hparams.yaml").read_text())
    assert hparams["optimizer.lr"] == pytest.approx(0.0123)
    assert hparams["trainer.max_epochs"] == 2


def test_mlflow_run_found_by_its_client_with_params_and_metrics(run_dir: Path) -> None:
    from mlflow.tracking import MlflowClient

    from trainrig.training.loggers.mlflow_logger import local_tracking_uri

    client = MlflowClient(tracking_uri=local_tracking_uri(run_dir))
    experiment = client.get_experiment_by_name("trainrig")
    assert experiment is not None
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.info.run_name == run_dir.name
    assert run.info.status == "FINISHED"
    assert float(run.data.params["optimizer.lr"]) == pytest.approx(0.0123)
    assert run.data.params["model._target_"].startswith("trainrig.models.")
    assert set(run.data.metrics) >= EPOCH_METRICS | {"test/acc", "test/loss"}
    history = client.get_metric_history(run.info.run_id, "val/acc")
    assert len(history) == 2  # two epochs (the best checkpoint's are read back, not re-logged)


def test_csv_has_the_same_metric_names(run_dir: Path) -> None:
    header = (run_dir / "csv" / "metrics.csv").read_text().splitlines()[0].split(",")
    assert set(header) >= EPOCH_METRICS


@pytest.mark.parametrize("option", ["tensorboard", "mlflow"])  # each option's package is its name
def test_option_without_its_package_names_the_extra(tmp_path: Path, option: str) -> None:
    hides_the_package = (
        f"import sys; sys.modules[{option!r}] = None; "
        f"from trainrig.cli.main import main; main(['train', 'trainer=smoke', 'logger={option}'])"
    )
    result = subprocess.run(
        [sys.executable, "-c", hides_the_package],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert f"pip install 'trainrig[{option}]'" in line, line
    assert not (tmp_path / "outputs" / "train" / "runs").exists() or not any(
        (tmp_path / "outputs" / "train" / "runs").iterdir()
    )


def test_several_loggers_compose_into_one_mapping(
    compose_train: Callable[..., DictConfig],
) -> None:
    cfg = compose_train("logger=[csv,tensorboard,mlflow]")
    assert set(cfg.logger) == {"csv", "tensorboard", "mlflow"}


def test_flat_config_uses_override_keys_and_redacts_passwords() -> None:
    from trainrig.config.flat import flat_config

    config = {
        "optimizer": {"lr": 0.1, "betas": [0.9, 0.99]},
        "scheduler": {},
        "storage": "postgresql://user:secret@host/db",
        "resume": None,
    }
    assert flat_config(config) == {
        "optimizer.lr": 0.1,
        "optimizer.betas": "[0.9, 0.99]",
        "scheduler": "{}",
        "storage": "postgresql://user:***@host/db",
        "resume": None,
    }


def test_a_resumed_run_logs_into_its_earlier_mlflow_run(tmp_path: Path) -> None:
    from trainrig.training.loggers.mlflow_logger import build_mlflow_logger

    first = build_mlflow_logger(str(tmp_path))
    first.log_metrics({"train/loss": 1.0}, step=0)
    first.finalize("failed")  # as a killed run leaves it
    again = build_mlflow_logger(str(tmp_path))
    assert again.run_id == first.run_id
    other = build_mlflow_logger(str(tmp_path), run_name="another")
    assert other.run_id != first.run_id


def test_a_run_without_any_logger_trains(
    compose_train: Callable[..., DictConfig], tmp_path: Path
) -> None:
    """`~logger` removes the mapping: no logger, no lr monitor, and the run still finishes."""
    from omegaconf import OmegaConf

    from trainrig.config.validate import validate
    from trainrig.training.runner import train

    cfg = OmegaConf.create(validate(compose_train("trainer=smoke", "~logger"), "train"))
    metrics = train(cfg, tmp_path)
    assert "test/acc" in metrics and not (tmp_path / "csv").exists()
