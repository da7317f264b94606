"""`write_plots`: a finished sweep's PNG and HTML plots, from real (in-memory) Optuna studies."""

from __future__ import annotations

import logging
import re
import warnings
from pathlib import Path

import matplotlib
import matplotlib.image
import optuna
import pytest

from trainrig.sweeps.plots import PLOTLY_JS, _options, write_plots

PARAMS = ("dropout_rate", "activation_fn")  # names that plotly.js itself never contains
METRICS = ["val_accuracy", "latency_ms"]


def loss(trial: optuna.Trial) -> float:
    """A cheap synthetic objective over a float and a categorical parameter."""
    rate = trial.suggest_float("dropout_rate", 0.0, 0.5)
    activation = trial.suggest_categorical("activation_fn", ["relu", "gelu", "tanh"])
    return (rate - 0.2) ** 2 + {"relu": 0.0, "gelu": 0.05, "tanh": 0.2}[activation]


def accuracy_and_latency(trial: optuna.Trial) -> tuple[float, float]:
    """Two competing objectives: accuracy to maximize, latency to minimize."""
    return 1.0 - loss(trial), 10.0 + 20.0 * trial.params["dropout_rate"]


def study(n_trials: int, multi: bool = False) -> optuna.Study:
    """A real in-memory study after `n_trials` random trials."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    result = optuna.create_study(
        sampler=optuna.samplers.RandomSampler(seed=0),
        directions=["maximize", "minimize"] if multi else None,
    )
    if multi:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            result.set_metric_names(METRICS)
        result.optimize(accuracy_and_latency, n_trials=n_trials)
    else:
        result.optimize(loss, n_trials=n_trials)
    return result


def check_written(written: list[Path], plots_dir: Path, kinds: set[str]) -> None:
    """The returned paths are exactly the files on disk: a valid PNG and an HTML per plot."""
    assert sorted(written) == sorted(plots_dir.iterdir())  # so no temporary files remain
    pages = {f"{k}{ext}" for k in kinds for ext in (".png", ".html")}
    assert {p.name for p in written} == pages | {PLOTLY_JS}
    for path in written:
        if path.suffix == ".png":
            height, width = matplotlib.image.imread(path).shape[:2]
            assert height > 100 and width > 100, path
        elif path.suffix == ".html":
            html = path.read_text(encoding="utf-8")
            scripts = re.findall(r'<script[^>]* src="([^"]+)"', html)
            assert scripts == [PLOTLY_JS], path  # the bundle beside it (offline), no CDN
            if path.stem != "optimization_history":  # the history shows values, not parameters
                assert all(name in html for name in PARAMS), path
    bundle = (plots_dir / PLOTLY_JS).read_text(encoding="utf-8")
    assert len(bundle) > 1_000_000 and "plotly.js v" in bundle[:1000]  # the whole library


def test_single_objective_writes_history_importances_and_parallel_coordinates(
    tmp_path: Path,
) -> None:
    written = write_plots(study(12), tmp_path / "plots")
    kinds = {"optimization_history", "param_importances", "parallel_coordinate"}
    check_written(written, tmp_path / "plots", kinds)


def test_multi_objective_writes_the_pareto_front_and_plots_the_first_objective(
    tmp_path: Path,
) -> None:
    written = write_plots(study(12, multi=True), tmp_path)
    check_written(written, tmp_path, {"optimization_history", "param_importances", "pareto_front"})
    assert METRICS[0] in (tmp_path / "optimization_history.html").read_text(encoding="utf-8")
    assert all(m in (tmp_path / "pareto_front.html").read_text(encoding="utf-8") for m in METRICS)


def test_one_complete_trial_skips_the_plots_that_compare_trials(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    one = study(1)
    one.optimize(lambda t: float("nan"), n_trials=1)  # a FAIL trial does not count
    with caplog.at_level(logging.INFO, logger="trainrig.sweeps.plots"):
        written = write_plots(one, tmp_path)
    check_written(written, tmp_path, {"optimization_history"})
    assert "param_importances plot: fewer than 2 complete trials" in caplog.text
    assert "parallel_coordinate plot: fewer than 2 complete trials" in caplog.text


def test_nothing_to_draw_writes_nothing_and_leaves_matplotlib_style_alone(tmp_path: Path) -> None:
    def style() -> dict[str, object]:  # write_plots may pick the Agg backend, nothing else
        return {k: v for k, v in matplotlib.rcParams.items() if k != "backend"}

    before = style()
    assert write_plots(optuna.create_study(), tmp_path) == []
    assert list(tmp_path.iterdir()) == []
    write_plots(study(3), tmp_path)  # optuna's plots apply the ggplot style sheet globally
    assert style() == before


def test_one_value_per_parameter_draws_only_the_history(tmp_path: Path) -> None:
    def one_choice(trial: optuna.Trial) -> float:
        trial.suggest_categorical("only", ["x"])
        return float(trial.number)

    constant = study(0)
    constant.optimize(one_choice, n_trials=4)
    check_written(write_plots(constant, tmp_path), tmp_path, {"optimization_history"})


def test_equal_objective_values_get_no_importances(tmp_path: Path) -> None:
    flat = study(0)
    flat.optimize(lambda t: 0.0 * loss(t), n_trials=4)
    written = write_plots(flat, tmp_path)
    check_written(written, tmp_path, {"optimization_history", "parallel_coordinate"})


def test_importances_of_a_maximized_first_objective_look_at_its_high_values() -> None:
    """PED-ANOVA ranks parameters by what gets `target` low, so a maximized objective is negated."""

    def a_sets_the_top_b_the_bottom(trial: optuna.Trial) -> tuple[float, float]:
        a, b = trial.suggest_float("a", 0.0, 1.0), trial.suggest_float("b", 0.0, 1.0)
        return (1.0 + a if a > 0.8 else b), 0.0

    both = study(0, multi=True)
    both.optimize(a_sets_the_top_b_the_bottom, n_trials=40)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        target = _options(both, "param_importances")["target"]
        importances = optuna.importance.get_param_importances(both, target=target)
    assert importances["a"] > importances["b"]


def test_a_failed_write_raises_and_leaves_no_file_or_open_figure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import matplotlib.figure
    import matplotlib.pyplot as plt

    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", disk_full)
    with pytest.raises(OSError, match="disk full"):
        write_plots(study(3), tmp_path)
    assert list(tmp_path.iterdir()) == []
    assert plt.get_fignums() == []
