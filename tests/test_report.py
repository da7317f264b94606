"""`trainrig report` on a real two-trial sweep: the table, the plots, the pages, bad paths."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib.image
import pytest

from trainrig.config.flat import flat_config
from trainrig.report.curves import read_curves
from trainrig.report.discover import Run, discover
from trainrig.report.objective import objective_of, sorted_by
from trainrig.report.plots import FIGURE_PIXELS
from trainrig.report.table import runs_table

from .conftest import CliRunner, run_trainrig

# Two trials that differ in the learning rate alone.
SWEEP = [
    "-m", "hydra/sweeper=optuna", "hydra.sweeper.direction=maximize", "trainer=smoke",
    "hydra.sweep.dir=sweep", "hydra.sweeper.sampler.seed=0", "hydra.sweeper.n_trials=2",
    "optimizer.lr=tag(log,interval(1e-3,1e-1))",
]  # fmt: skip


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cwd = tmp_path_factory.mktemp("report")
    result = run_trainrig("train", *SWEEP, cwd=cwd)
    assert result.returncode == 0, result.stderr
    return cwd / "sweep"


@pytest.fixture(scope="module")
def report_dir(sweep_dir: Path) -> Path:
    out = sweep_dir.parent / "out"
    result = run_trainrig("report", str(sweep_dir), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(out / "report.md"), str(out / "report.html")]
    return out


def _table_header(markdown: str) -> list[str]:
    line = next(line for line in markdown.splitlines() if line.startswith("| # | run |"))
    return [cell.strip() for cell in line.strip("|").split("|")]


def test_table_of_two_runs_shows_exactly_the_key_that_differs(
    sweep_dir: Path, report_dir: Path
) -> None:
    runs = discover([sweep_dir]).runs
    assert len(runs) == 2
    table = runs_table(runs, "val/acc")
    assert table.config_keys == ["optimizer.lr"]
    metrics = set(runs[0].metrics)
    header = _table_header((report_dir / "report.md").read_text())
    assert [c for c in header[2:] if c not in metrics] == ["optimizer.lr"]
    assert header[3] == "val/acc"  # the objective leads the metrics


def test_runs_are_sorted_best_first_by_the_objective(sweep_dir: Path, report_dir: Path) -> None:
    markdown = (report_dir / "report.md").read_text()
    assert "sorted by `val/acc`, highest first (checkpoint.mode=max)" in markdown
    rows = [line for line in markdown.splitlines() if re.match(r"\| \d+ \|", line)]
    scores = [float(row.strip("|").split("|")[3]) for row in rows]
    assert scores == sorted(scores, reverse=True)


def test_every_png_is_a_valid_image_of_the_expected_size(sweep_dir: Path, report_dir: Path) -> None:
    ours = sorted((report_dir / "plots").glob("*.png"))
    names = {p.name for p in ours}  # one per run, numbered best first, and the overlay
    assert names in (
        {"01-0.png", "02-1.png", "overlay.png"},
        {"01-1.png", "02-0.png", "overlay.png"},
    )
    for png in ours:
        height, width = matplotlib.image.imread(png).shape[:2]
        assert (width, height) == FIGURE_PIXELS, png
    copied = sorted((report_dir / "sweeps").rglob("*.png"))
    assert {p.name for p in copied} == {p.name for p in (sweep_dir / "plots").glob("*.png")}
    for png in copied:
        original = matplotlib.image.imread(sweep_dir / "plots" / png.name).shape
        assert matplotlib.image.imread(png).shape == original, png


def test_html_shows_every_image_by_a_relative_path_that_exists(report_dir: Path) -> None:
    page = (report_dir / "report.html").read_text()
    sources = re.findall(r'<img src="([^"]+)"', page)
    assert len(sources) == 3 + len(list((report_dir / "sweeps").rglob("*.png")))
    for source in sources:
        assert not Path(source).is_absolute() and (report_dir / source).is_file(), source
    links = re.findall(r'<a href="([^"]+)"', page)
    for link in links:
        assert (report_dir / link).exists(), link
    pages = [link for link in links if link.endswith(".html")]
    assert pages  # the sweep's interactive plots, each with the plotly.js it loads beside it
    assert all((report_dir / link).with_name("plotly.min.js").is_file() for link in pages)
    assert not any(link.endswith(".js") for link in links)


def test_default_out_is_report_beside_the_first_path(
    sweep_dir: Path, trainrig_cli: CliRunner
) -> None:
    run = sweep_dir / "0"
    result = trainrig_cli("report", str(run))
    assert result.returncode == 0, result.stderr
    assert (sweep_dir / "report" / "report.md").is_file()
    markdown = (sweep_dir / "report" / "report.md").read_text()
    assert "Config keys that differ: none" in markdown
    assert not (sweep_dir / "report" / "plots" / "overlay.png").exists()  # one run: no overlay


def test_curves_cover_the_training_epochs(sweep_dir: Path) -> None:
    curves = read_curves(sweep_dir / "0" / "csv" / "metrics.csv")
    for metric in ("train/loss", "val/loss", "train/acc", "val/acc"):
        assert curves.series[metric][0] == [1.0, 2.0], metric  # trainer=smoke: two epochs
    lr_epochs = curves.series["train/lr"][0]
    assert lr_epochs[0] == 0.0 and max(lr_epochs) < 2.0


def _run(config: dict[str, object], score: float, metric: str) -> Run:
    return Run(path=Path(f"run-{score}"), config=flat_config(config), metrics={metric: score})


@pytest.mark.parametrize(
    ("objective", "checkpoint", "higher_first", "reason"),
    [
        ("val/acc", {"monitor": "val/acc", "mode": "max"}, True, "checkpoint.mode=max"),
        ("val/loss", {"monitor": "val/loss", "mode": "min"}, False, "checkpoint.mode=min"),
        ("val/loss", {"monitor": "val/acc", "mode": "max"}, False, "by the metric's name"),
        ("model/parameters", {"monitor": "val/acc", "mode": "max"}, False, "by the metric's name"),
        (
            "compression/sparsity",
            {"monitor": "val/acc", "mode": "max"},
            True,
            "by the metric's name",
        ),
    ],
)
def test_objective_direction(
    objective: str, checkpoint: dict[str, str], higher_first: bool, reason: str
) -> None:
    config = {"optimized_metric": objective, "checkpoint": checkpoint}
    runs = [_run(config, score, objective) for score in (0.2, 0.9, 0.5)]
    found = objective_of(runs)
    assert (found.higher_is_better, found.reason) == (higher_first, reason)
    scores = [run.metrics[objective] for run in sorted_by(found, runs)]
    assert scores == sorted(scores, reverse=higher_first)


@pytest.mark.parametrize("kind", ["missing", "empty"])
def test_a_path_without_runs_is_refused_naming_it(
    tmp_path: Path, trainrig_cli: CliRunner, kind: str
) -> None:
    path = tmp_path / kind
    if kind == "empty":
        (path / "csv").mkdir(parents=True)
    result = trainrig_cli("report", str(path))
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("trainrig: error: ") and str(path) in line, line
    assert not (tmp_path / "report").exists()
