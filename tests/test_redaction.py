"""Passwords in storage and tracking URLs never reach a file, a log or an error message."""

from __future__ import annotations

import io
import json
import logging
import socket
from pathlib import Path

import pytest

from trainrig.rundir.redaction import RedactingFilter, redact_files, redact_logs, redacted
from trainrig.rundir.results import write_atomic

from .conftest import CliRunner

SECRET = "s3cr3t-pw"

# (text, redacted text)
CASES = [
    ("postgresql://user:secret@127.0.0.1/db", "postgresql://user:***@127.0.0.1/db"),
    ("postgresql+psycopg2://u:p%40ss@h:5432/d", "postgresql+psycopg2://u:***@h:5432/d"),
    ("mysql://root:pw@db", "mysql://root:***@db"),
    ("https://:token@host/x", "https://:***@host/x"),
    ("a=http://u:x@h b=redis://v:y@k", "a=http://u:***@h b=redis://v:***@k"),
    ("postgresql://user@host/db", "postgresql://user@host/db"),  # no password
    ("https://host:8080/path", "https://host:8080/path"),  # a port is not a password
    ("sqlite:////tmp/study.db", "sqlite:////tmp/study.db"),
    ("see http://host:80/a then mail me@x.org", "see http://host:80/a then mail me@x.org"),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_passwords_in_urls_are_redacted(text: str, expected: str) -> None:
    assert redacted(text) == expected


def test_files_written_by_trainrig_are_redacted(tmp_path: Path) -> None:
    path = tmp_path / "summary.json"
    write_atomic(path, json.dumps({"storage": f"postgresql://u:{SECRET}@h/db"}))
    assert SECRET not in path.read_text()
    assert "postgresql://u:***@h/db" in path.read_text()


def test_log_records_are_redacted() -> None:
    record = logging.LogRecord("x", logging.INFO, "f", 1, "open %s", (f"pg://u:{SECRET}@h",), None)
    RedactingFilter().filter(record)
    assert record.getMessage() == "open pg://u:***@h"


def test_log_records_pass_the_filter_with_or_without_a_password() -> None:
    for message in (f"pg://u:{SECRET}@h", "no password here"):
        record = logging.LogRecord("x", logging.INFO, "f", 1, message, None, None)
        assert RedactingFilter().filter(record) is True  # a filter that drops records loses logs


def test_redact_files_rewrites_only_the_files_holding_a_password(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_bytes(f"storage: pg://u:{SECRET}@h/db\n\xff".encode("latin-1"))
    clean = tmp_path / "overrides.yaml"
    clean.write_text("- trainer=smoke\n")
    (tmp_path / "nested").mkdir()  # folders inside are left alone
    inode = clean.stat().st_ino
    redact_files(tmp_path)
    assert (
        (tmp_path / "config.yaml")
        .read_text(errors="replace")
        .startswith("storage: pg://u:***@h/db\n")
    )
    assert clean.stat().st_ino == inode  # not rewritten
    redact_files(tmp_path / "missing")  # a run without `.hydra/`: nothing to do, no error


def test_redact_logs_filters_each_root_handler_once() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        redact_logs()
        redact_logs()
        logging.getLogger("trainrig.test").warning("storage %s", f"pg://u:{SECRET}@h")
    finally:
        root.removeHandler(handler)
    assert sum(isinstance(f, RedactingFilter) for f in handler.filters) == 1
    assert stream.getvalue() == "storage pg://u:***@h\n"


def _text_files(root: Path) -> dict[Path, str]:
    return {
        p: p.read_text(errors="replace")
        for p in root.rglob("*")
        if p.is_file() and p.suffix not in (".ckpt", ".db", ".png", ".pt")
    }


LOGGING_MODEL = """
import logging

import torch


def build(input_shape, num_classes, weights_url):
    \"\"\"A linear classifier that logs where it would fetch its weights.\"\"\"
    logging.getLogger(__name__).info("weights from %s", weights_url)
    size = 1
    for dim in input_shape:
        size *= dim
    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(size, num_classes))
"""


def test_a_run_writes_no_password(trainrig_cli: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "url_model.py").write_text(LOGGING_MODEL)
    (tmp_path / "conf" / "model").mkdir(parents=True)
    (tmp_path / "conf" / "model" / "url.yaml").write_text(
        "# Linear, weights from a URL.\n_target_: url_model.build\n_partial_: true\n"
        "weights_url: ???\n"
    )
    result = trainrig_cli(
        "train", "trainer=smoke", "model=url", "hydra.run.dir=run",
        f"model.weights_url=https://reader:{SECRET}@127.0.0.1/w.pt",
        "hydra/sweeper=optuna", f"hydra.sweeper.storage=postgresql://user:{SECRET}@127.0.0.1/db",
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    files = _text_files(tmp_path / "run")
    names = {str(p.relative_to(tmp_path / "run")) for p in files}
    expected = {"config.yaml", "train.log", ".hydra/config.yaml", ".hydra/overrides.yaml"}
    assert expected | {".hydra/hydra.yaml"} <= names
    for path, text in files.items():
        assert SECRET not in text, path
    assert "https://reader:***@127.0.0.1/w.pt" in files[tmp_path / "run" / "config.yaml"]
    assert "weights from https://reader:***@127.0.0.1/w.pt" in files[tmp_path / "run/train.log"]
    assert "postgresql://user:***@127.0.0.1/db" in files[tmp_path / "run/.hydra/hydra.yaml"]
    assert SECRET not in result.stdout + result.stderr


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again when this returns: nothing listens there


def test_an_unreachable_storage_error_names_no_password(
    trainrig_cli: CliRunner, tmp_path: Path
) -> None:
    url = f"postgresql+psycopg2://user:{SECRET}@127.0.0.1:{_closed_port()}/optuna"
    result = trainrig_cli(
        "train", "-m", "hydra/sweeper=optuna", f"hydra.sweeper.storage={url}",
        "hydra.sweep.dir=sweep", "trainer=smoke", "model=cnn,mlp", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert "hydra.sweeper.storage: cannot open postgresql+psycopg2://user:***@127.0.0.1" in (
        result.stderr
    )
    assert SECRET not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    for path, text in _text_files(tmp_path / "sweep").items():
        assert SECRET not in text, path


def test_a_sweep_on_a_password_url_writes_no_password(
    postgres_url: str, trainrig_cli: CliRunner, tmp_path: Path
) -> None:
    url = postgres_url.replace("trainrig@", f"trainrig:{SECRET}@")  # the server trusts anyone
    result = trainrig_cli(
        "train", "-m", "hydra/sweeper=optuna", f"hydra.sweeper.storage={url}",
        "hydra.sweeper.study_name=redaction", "hydra.sweeper.n_trials=2",
        "hydra.sweeper.direction=maximize", "hydra/sweeper/sampler=random",
        "hydra.sweep.dir=sweep", "trainer=smoke", "model=cnn,mlp", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    files = _text_files(tmp_path / "sweep")
    names = {str(p.relative_to(tmp_path / "sweep")) for p in files}
    assert {"multirun.yaml", "summary.json", "best.yaml", "0/.hydra/hydra.yaml"} <= names
    for path, text in files.items():
        assert SECRET not in text, path
    assert "trainrig:***@" in files[tmp_path / "sweep" / "multirun.yaml"]
    assert SECRET not in result.stdout + result.stderr
    checkpoints = list((tmp_path / "sweep").rglob("*.ckpt"))  # they store the trial's config
    assert checkpoints
    for checkpoint in checkpoints:
        assert SECRET.encode() not in checkpoint.read_bytes(), checkpoint
