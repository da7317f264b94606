"""The example projects of examples/, each copied outside the repository and run from its own
directory through the real CLI, as a user runs them: train (killed with SIGKILL mid-training,
then `trainrig resume`), eval of its best checkpoint, predict on its test split, an Optuna sweep
pruned on a metric of the project's own, a report, and a multirun.

Nothing is put on PYTHONPATH, Python does not put the working directory on sys.path (`-P`, as
the installed `trainrig` command starts), and there is no `allow_any_target`: the projects' own
modules (a LightningModule, a data module, a network builder) are found and allowed because
trainrig runs in the project. Training is cut short, and the one trained run serves eval and
report. Each project's chain is one test and its multirun another, so `pytest -n 2` never
builds the same run on two workers.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

from .conftest import REPO_ROOT

pytestmark = pytest.mark.slow

EXAMPLES = REPO_ROOT / "examples"
QUIET = ["trainer.enable_progress_bar=false", "trainer.enable_model_summary=false"]
TRIALS = 4


@dataclass(frozen=True)
class Example:
    """One example project and what its runs are checked against."""

    name: str
    experiment: str
    search: str  # its Optuna experiment, pruned on `own_metric`
    own_metric: str
    direction: str  # the study's, the metric's own
    limits: tuple[str, ...]  # overrides that keep every training short
    short_epochs: int  # the multirun's and the sweep's
    train_epochs: int  # the run killed after its first epoch: long enough to be still training
    multirun: str  # `KEY=A,B`: the multirun's two jobs
    test_metric: str
    sane: tuple[float, float]  # where the trained run's `test_metric` falls

    def training(self, epochs: int) -> list[str]:
        return [*self.limits, f"trainer.max_epochs={epochs}", *QUIET]


EXAMPLE_PROJECTS = [
    Example(
        name="digits_project",
        experiment="digits_module",
        search="digits_search",
        own_metric="val/f1_macro",  # the module's own (torchmetrics), not trainrig's catalog
        direction="MAXIMIZE",
        limits=("trainer.limit_train_batches=6",),
        short_epochs=3,
        train_epochs=10,  # ~0.1 s each
        multirun="model.hidden_size=16,32",
        test_metric="test/acc",
        sane=(0.3, 1.0),  # ten classes: chance is 0.1
    ),
    Example(
        name="regression_project",
        experiment="houses",
        search="houses_search",
        own_metric="val/mae",  # the project's choice of metrics: [r2, mae]
        direction="MINIMIZE",
        limits=(),  # 3 batches an epoch
        short_epochs=6,
        train_epochs=25,  # ~0.03 s each
        multirun="model.depth=1,2",
        test_metric="test/r2",
        sane=(0.3, 1.0),  # 0: no better than the mean price
    ),
]


EACH_PROJECT = pytest.mark.parametrize("example", EXAMPLE_PROJECTS, ids=lambda e: e.name)


def _copy(example: Example, tmp_path: Path) -> Path:
    """A copy of the example project in a temporary directory, outside the repository."""
    root = tmp_path / example.name
    shutil.copytree(EXAMPLES / example.name, root, ignore=shutil.ignore_patterns("outputs"))
    assert REPO_ROOT not in root.parents
    return root


def _command(*args: str) -> list[str]:
    """`trainrig ARGS` as the installed command starts: the working directory not on sys.path."""
    return [sys.executable, "-P", "-m", "trainrig", *args]


def _environment() -> dict[str, str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("HYDRA_FULL_ERROR", None)
    return env


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        _command(*args), cwd=cwd, env=_environment(), capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def _metrics(run_dir: Path) -> dict[str, float]:
    return json.loads((run_dir / "metrics.json").read_text())  # type: ignore[no-any-return]


def _epoch(checkpoint: Path) -> int:
    return int(torch.load(checkpoint, map_location="cpu", weights_only=True)["epoch"])


@dataclass(frozen=True)
class Trained:
    run_dir: Path
    killed_after_epoch: int  # the epoch of last.ckpt when the run was killed
    resume_output: str


@EACH_PROJECT
def test_a_project_trains_resumes_evaluates_sweeps_and_reports(
    example: Example, tmp_path: Path
) -> None:
    project = _copy(example, tmp_path)
    trained = _killed_then_resumed(example, project)
    _check_trained(example, trained)
    _check_resumed(example, trained)
    _check_eval(example, project, trained)
    _check_predict(example, project, trained)
    sweep = _sweep(example, project)
    _check_sweep(example, sweep)
    _check_report(example, project, trained, sweep)


@EACH_PROJECT
def test_a_multirun_trains_one_run_per_value(example: Example, tmp_path: Path) -> None:
    project = _copy(example, tmp_path)
    key, values = example.multirun.split("=")
    _cli("train", "-m", f"experiment={example.experiment}", example.multirun,
         *example.training(example.short_epochs), "hydra.sweep.dir=outputs/multirun",
         cwd=project)  # fmt: skip
    jobs = sorted((project / "outputs" / "multirun").glob("[0-9]"))
    assert [job.name for job in jobs] == ["0", "1"]
    for job, value in zip(jobs, values.split(","), strict=True):
        assert f"{key}={value}" in (job / ".hydra" / "overrides.yaml").read_text()
        assert example.own_metric in _metrics(job)


def _killed_then_resumed(example: Example, project: Path) -> Trained:
    """`trainrig train experiment=...` killed with SIGKILL once its first epoch is saved, then
    `trainrig resume RUN_DIR`."""
    epochs = example.train_epochs
    command = _command("train", f"experiment={example.experiment}", *example.training(epochs),
                       f"early_stopping.patience={epochs}")  # fmt: skip
    process = subprocess.Popen(
        command, cwd=project, env=_environment(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    runs, deadline = project / "outputs" / "train" / "runs", time.monotonic() + 120
    try:
        while not list(runs.glob("*/checkpoints/last.ckpt")):  # saved atomically, every epoch
            assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
            assert time.monotonic() < deadline, "no checkpoint within 120 s"
            time.sleep(0.01)
    finally:
        process.kill()  # SIGKILL: mid-training, as a lost machine or the OOM killer stops it
        process.wait()
    (run_dir,) = runs.iterdir()
    killed_after = _epoch(run_dir / "checkpoints" / "last.ckpt")
    assert killed_after < example.train_epochs - 1, "the run finished before it was killed"
    assert not (run_dir / "metrics.json").exists()
    result = _cli("resume", str(run_dir), cwd=project)
    return Trained(run_dir, killed_after, result.stdout + result.stderr)


def _check_trained(example: Example, trained: Trained) -> None:
    """The metrics the project logs and its best checkpoint."""
    metrics = _metrics(trained.run_dir)
    assert (trained.run_dir / "checkpoints" / "best.ckpt").is_file()
    assert {example.own_metric, example.test_metric, "val/loss", "test/loss"} <= metrics.keys()
    low, high = example.sane
    assert low < metrics[example.test_metric] <= high
    assert all(abs(value) < float("inf") for value in metrics.values())  # no NaN, no inf


def _check_resumed(example: Example, trained: Trained) -> None:
    """Resumed from last.ckpt, the kill's epoch, and trained every later epoch once."""
    last = trained.run_dir / "checkpoints" / "last.ckpt"
    assert f"Restoring states from the checkpoint path at {last}" in trained.resume_output
    assert _epoch(last) == example.train_epochs - 1  # went on to the last epoch
    with (trained.run_dir / "csv" / "metrics.csv").open() as log:
        validated = [int(row["epoch"]) for row in csv.DictReader(log) if row["val/loss"]]
    after_kill = list(range(trained.killed_after_epoch + 1, example.train_epochs))
    assert validated[-len(after_kill) :] == after_kill  # each epoch after the kill, once


def _sweep(example: Example, project: Path) -> Path:
    """The project's own Optuna search, cut to four short trials, pruned from the second on
    (deterministic, so the same trials are pruned every time): its sweep directory."""
    _cli("train", f"experiment={example.search}", f"hydra.sweeper.n_trials={TRIALS}",
         "hydra.sweeper.pruner.n_startup_trials=1", *example.training(example.short_epochs),
         "trainer.deterministic=true", cwd=project)  # fmt: skip
    return project / "outputs" / "sweeps" / example.search


def _check_sweep(example: Example, sweep: Path) -> None:
    """The study optimized and pruned on the project's own metric, in its direction."""
    import optuna

    study = optuna.load_study(study_name="trainrig", storage=f"sqlite:///{sweep / 'study.db'}")
    assert study.metric_names == [example.own_metric]
    assert study.direction.name == example.direction
    states = [trial.state.name for trial in study.trials]
    assert len(states) == TRIALS and set(states) <= {"COMPLETE", "PRUNED"}
    assert "COMPLETE" in states and "PRUNED" in states
    # every trial reported the metric to the pruner after each epoch it trained
    assert all(trial.intermediate_values for trial in study.trials)
    assert "optuna.pruners.MedianPruner" in (sweep / "multirun.yaml").read_text()
    summary = json.loads((sweep / "summary.json").read_text())
    assert summary["trials"] == {state: states.count(state) for state in set(states)}
    best = study.best_trial
    assert summary["best"]["number"] == best.number
    assert _metrics(sweep / str(best.number))[example.own_metric] == pytest.approx(best.value)


def _check_eval(example: Example, project: Path, trained: Trained) -> None:
    """eval of the best checkpoint gives the run's own test metric."""
    best = trained.run_dir / "checkpoints" / "best.ckpt"
    _cli("eval", f"ckpt_path={best}", "hydra.run.dir=outputs/evaluated", cwd=project)
    evaluated = _metrics(project / "outputs" / "evaluated")
    expected = _metrics(trained.run_dir)[example.test_metric]
    assert evaluated[example.test_metric] == pytest.approx(expected, abs=1e-6)


def _check_predict(example: Example, project: Path, trained: Trained) -> None:
    """predict of the best checkpoint on the test split: one row per test sample, scoring the
    run's own test metric (the digits module's predict_step gives class probabilities; the
    regression project's network, under trainrig's regression task, predicted prices)."""
    best = trained.run_dir / "checkpoints" / "best.ckpt"
    result = _cli("predict", f"ckpt_path={best}", "split=test", "output=predicted.csv", cwd=project)
    assert "predicted.csv" in result.stdout + result.stderr
    with (project / "predicted.csv").open() as table:
        rows = list(csv.DictReader(table))
    expected = _metrics(trained.run_dir)[example.test_metric]
    if example.test_metric == "test/acc":
        labels = _digits_test_labels(project)
        assert len(rows) == len(labels)
        outputs = [[float(v) for k, v in row.items() if k.startswith("output_")] for row in rows]
        assert all(sum(p) == pytest.approx(1.0, abs=1e-5) for p in outputs)
        chosen = [max(range(len(p)), key=p.__getitem__) for p in outputs]
        accuracy = sum(c == y for c, y in zip(chosen, labels, strict=True)) / len(labels)
        assert accuracy == pytest.approx(expected, abs=1e-6)
    else:
        (predicted,) = [k for k in rows[0] if k.startswith("prediction")]
        (target,) = [k for k in rows[0] if k.startswith("target")]
        y = torch.tensor([float(row[target]) for row in rows], dtype=torch.float64)
        y_hat = torch.tensor([float(row[predicted]) for row in rows], dtype=torch.float64)
        r2 = 1 - ((y - y_hat) ** 2).sum() / ((y - y.mean()) ** 2).sum()
        assert float(r2) == pytest.approx(expected, abs=1e-4)


def _digits_test_labels(project: Path) -> list[int]:
    """The digits project's test labels, from its own data module (split_seed = seed = 42)."""
    sys.path.insert(0, str(project))
    try:
        from digits_project.data.digits_datamodule import DigitsDataModule

        data = DigitsDataModule(split_seed=42)
        data.setup("test")
        return [int(y) for _, y in data.splits["test"]]
    finally:
        sys.path.remove(str(project))
        for name in [n for n in sys.modules if n.startswith("digits_project")]:
            del sys.modules[name]


def _check_report(example: Example, project: Path, trained: Trained, sweep: Path) -> None:
    """The report ranks by the sweep's metric and names the run, the trials and the sweep."""
    out = project / "outputs" / "report"
    _cli("report", str(sweep), str(trained.run_dir), "--out", str(out), cwd=project)
    report = (out / "report.md").read_text()
    order = "highest" if example.direction == "MAXIMIZE" else "lowest"
    assert f"sorted by `{example.own_metric}`, {order} first" in report  # the sweep's, first
    assert f"[train/runs/{trained.run_dir.name}]" in report
    assert f"[sweeps/{example.search}/0]" in report and f"### {example.search}" in report
    assert (out / "report.html").is_file()
