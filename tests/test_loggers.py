"""The `logger` options on a real smoke run: CSV, TensorBoard, MLflow, W&B (offline), Lightning's
TensorBoardLogger by `_target_` and a user's own Logger at once, under the same names."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from omegaconf import DictConfig

from .conftest import run_trainrig

# W&B without network or prompts; trainrig's wandb option is offline by default anyway.
OFFLINE_WANDB = {"WANDB_MODE": "offline", "WANDB_SILENT": "true"}
# Logged every epoch by the classifier and the learning-rate monitor, under one name everywhere.
EPOCH_METRICS = {"train/loss", "train/acc", "val/loss", "val/acc", "train/lr"}


# A user's own Logger (a module of the project trainrig runs in), without a `save_dir` parameter.
OWN_LOGGER = """
import json
import os
from pytorch_lightning.loggers import Logger


class JsonLines(Logger):
    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path

    name = property(lambda self: "own")
    version = property(lambda self: "0")

    def _write(self, record):
        with open(self.path, "a") as f:
            f.write(json.dumps(record) + "\\n")

    def log_metrics(self, metrics, step=None):
        self._write({"step": step, **metrics})

    def log_hyperparams(self, params, *args, **kwargs):
        self._write({"hyperparameters": params})
"""


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One smoke run logging to every logger at once: trainrig's options, Lightning's
    TensorBoardLogger named by `_target_` and the project's own `own_logger.JsonLines`."""
    cwd = tmp_path_factory.mktemp("loggers")
    (cwd / "own_logger.py").write_text(OWN_LOGGER)
    result = run_trainrig(
        "train",
        "trainer=smoke",
        "logger=[csv,tensorboard,mlflow,wandb]",
        "+logger.lightning_tb._target_=pytorch_lightning.loggers.TensorBoardLogger",
        "+logger.lightning_tb.name=lightning_tb",
        "+logger.own._target_=own_logger.JsonLines",
        f"+logger.own.path={cwd / 'own.jsonl'}",
        "optimizer.lr=0.0123",
        cwd=cwd,
        env=OFFLINE_WANDB,
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


# each option's package is its name
@pytest.mark.parametrize("option", ["tensorboard", "mlflow", "wandb"])
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
    cfg = compose_train("logger=[csv,tensorboard,mlflow,wandb]")
    assert set(cfg.logger) == {"csv", "tensorboard", "mlflow", "wandb"}


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


def _csv_series(run_dir: Path) -> dict[str, list[float]]:
    """Each metric's logged values in order, as Lightning's CSVLogger wrote them."""
    with (run_dir / "csv" / "metrics.csv").open() as f:
        rows = list(csv.DictReader(f))
    return {key: [float(r[key]) for r in rows if r[key] != ""] for key in rows[0]}


def _wandb_records(run_dir: Path, *flags: str) -> str:
    """The offline run's transaction log read by wandb's own reader, `wandb leet inspect`, once
    the log says the run finished: wandb's service process may still be writing its last
    records for a few seconds after trainrig's process has ended (30 s at most)."""
    (log,) = (run_dir / "wandb").glob("offline-run-*/run-*.wandb")
    deadline = time.monotonic() + 30
    while json.loads(_wandb_records_of(log, "--summary"))["state"] != "finished":
        if time.monotonic() > deadline:
            break  # the assertions below say what is missing
        time.sleep(0.5)
    return _wandb_records_of(log, *flags)


def _wandb_records_of(log: Path, *flags: str) -> str:
    """`wandb leet inspect --json` of one .wandb file: a JSON record a line (or, with
    --summary, the run's state, config and last metrics)."""
    wandb_cli = shutil.which("wandb", path=str(Path(sys.executable).parent))
    assert wandb_cli is not None, "the wandb package installs the `wandb` command"
    read = subprocess.run(
        [wandb_cli, "leet", "inspect", "--json", *flags, str(log)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **OFFLINE_WANDB},
    )
    assert read.returncode == 0, read.stderr
    return read.stdout


def test_wandb_offline_run_holds_the_csv_metrics_under_their_names(run_dir: Path) -> None:
    history = [
        json.loads(line)["history"]["item"]
        for line in _wandb_records(run_dir).splitlines()
        if json.loads(line)["type"] == "history"
    ]
    series = _csv_series(run_dir)
    assert set(series) >= EPOCH_METRICS | {"test/acc", "test/loss"}
    for name, values in series.items():
        key = "trainer/global_step" if name == "step" else name  # Lightning's name in W&B
        logged = [row[key] for row in history if key in row]
        assert logged == pytest.approx(values), name


def test_wandb_run_gets_the_flat_config_in_the_run_directory(run_dir: Path) -> None:
    summary = json.loads(_wandb_records(run_dir, "--summary"))
    assert summary["state"] == "finished"
    assert summary["project"] == "trainrig"
    assert summary["config"]["optimizer.lr"] == pytest.approx(0.0123)
    assert summary["config"]["trainer.max_epochs"] == 2
    own = [json.loads(line) for line in (run_dir.parents[3] / "own.jsonl").open()]
    (hyperparameters,) = [r["hyperparameters"] for r in own if "hyperparameters" in r]
    assert set(summary["config"]) - {"_wandb"} == set(hyperparameters)  # every flat key, as given


def test_lightning_logger_by_target_writes_in_the_run_directory(run_dir: Path) -> None:
    """`+logger.NAME._target_=pytorch_lightning.loggers.TensorBoardLogger` gets `save_dir`."""
    assert list((run_dir / "lightning_tb").rglob("events.out.tfevents.*"))
    assert (run_dir / "lightning_tb" / "version_0" / "hparams.yaml").is_file()


def test_own_logger_without_save_dir_gets_the_same_metrics(run_dir: Path) -> None:
    records = [json.loads(line) for line in (run_dir.parents[3] / "own.jsonl").open()]
    series = _csv_series(run_dir)
    for name in EPOCH_METRICS | {"test/acc"}:
        assert [r[name] for r in records if name in r] == pytest.approx(series[name]), name


def _nodes(**nodes: dict[str, object]) -> dict[str, DictConfig]:
    from omegaconf import OmegaConf

    return {name: OmegaConf.create(node) for name, node in nodes.items()}


@pytest.mark.parametrize(
    ("node", "message"),
    [
        (
            {"_target_": "pytorch_lightning.loggers.csv_logs.CSVLogger", "flush_every": 5},
            "logger.x.flush_every: unknown key for pytorch_lightning.loggers.csv_logs.CSVLogger; "
            "did you mean flush_logs_every_n_steps?",
        ),
        (
            {"_target_": "pytorch_lightning.loggers.TensorBoardLogger", "nmae": "a"},
            "logger.x: pytorch_lightning.loggers.TensorBoardLogger refused a key: "
            "SummaryWriter.__init__() got an unexpected keyword argument 'nmae'",
        ),
        (
            {"_target_": "torch.nn.Identity"},
            "logger.x: torch.nn.Identity made a Identity, not a Lightning logger",
        ),
    ],
)
def test_logger_by_target_refuses_what_it_cannot_build(
    tmp_path: Path, node: dict[str, object], message: str
) -> None:
    from trainrig.config.errors import ConfigError
    from trainrig.training.loggers.from_config import build_loggers

    with pytest.raises(ConfigError) as refused:
        build_loggers(_nodes(csv={"_target_": "pytorch_lightning.loggers.CSVLogger"}, x=node), "d")
    assert str(refused.value).startswith(message), refused.value
    assert not (tmp_path / "d").exists()


def test_logger_set_to_null_is_off(tmp_path: Path) -> None:
    from trainrig.training.loggers.from_config import build_loggers

    made = build_loggers(
        {"csv": None, **_nodes(tb={"_target_": "pytorch_lightning.loggers.TensorBoardLogger"})},
        str(tmp_path),
    )
    assert [type(m).__name__ for m in made] == ["TensorBoardLogger"]
    assert made[0].log_dir == str(tmp_path / "lightning_logs" / "version_0")


def test_unknown_logger_key_through_the_cli_is_one_line(tmp_path: Path) -> None:
    result = run_trainrig(
        "train",
        "trainer=smoke",
        "+logger.lightning_csv._target_=pytorch_lightning.loggers.csv_logs.CSVLogger",
        "+logger.lightning_csv.nmae=x",
        cwd=tmp_path,
    )
    assert result.returncode == 2, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("trainrig: error: logger.lightning_csv.nmae: unknown key"), line
    assert "did you mean name?" in line
    assert not (tmp_path / "outputs" / "train" / "runs").exists()


def test_wandb_runs_of_one_process_stay_apart_and_a_resumed_one_keeps_its_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sweep trains its trials in one process; Lightning's WandbLogger would log a second
    trial into the first's open run. `trainrig resume` carries on in the run's W&B id."""
    import wandb

    from trainrig.training.loggers.wandb_logger import build_wandb_logger

    for name, value in OFFLINE_WANDB.items():
        monkeypatch.setenv(name, value)
    first = build_wandb_logger(str(tmp_path / "a"))
    first.log_metrics({"val/acc": 0.5}, step=0)
    other = build_wandb_logger(str(tmp_path / "b"))
    other.log_metrics({"val/acc": 0.7}, step=0)
    again = build_wandb_logger(str(tmp_path / "a"))  # the first run, resumed
    again.log_metrics({"val/acc": 0.6}, step=1)
    wandb.finish()
    assert other.version != first.version
    assert again.version == first.version
    for run_dir, values in (("a", [0.5, 0.6]), ("b", [0.7])):
        logs = sorted((tmp_path / run_dir / "wandb").glob("offline-run-*/run-*.wandb"))
        logged = [
            json.loads(line)["history"]["item"]["val/acc"]
            for log in logs
            for line in _wandb_records_of(log).splitlines()
            if json.loads(line)["type"] == "history"
        ]
        assert logged == values, run_dir
