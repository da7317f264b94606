"""A finished sweep's plots: PNG (matplotlib) and interactive HTML (plotly), via Optuna.

The HTML pages share one `plotly.min.js` beside them instead of inlining plotly.js (~4.8 MB)
each: the folder still opens offline, at a third of the size.
"""

from __future__ import annotations

import logging
import sys
import warnings
from pathlib import Path
from typing import Any

from trainrig.rundir.atomic_files import replaced_atomically
from trainrig.rundir.results import write_atomic

logger = logging.getLogger(__name__)

PLOTLY_JS = "plotly.min.js"  # the name plotly's include_plotlyjs="directory" pages load
PLOTS = ("optimization_history", "param_importances", "parallel_coordinate", "pareto_front")
_HANDLED_WARNINGS = (
    "Attempting to set identical",  # an axis of one value: matplotlib widens it, harmlessly
    "PedAnovaImportanceEvaluator computes the importances",  # see `_options`
)


def _varies(complete: list[Any]) -> bool:
    """Whether some parameter takes more than one value across the trials `complete`."""
    seen: dict[str, set[Any]] = {}
    for trial in complete:
        for name, value in trial.params.items():
            seen.setdefault(name, set()).add(value)
    return any(len(values) > 1 for values in seen.values())


def _why_not(kind: str, n_objectives: int, complete: list[Any]) -> str | None:
    """Why the plot `kind` cannot be drawn from the trials `complete`, or None when it can."""
    if not complete:
        return "no complete trials"
    if kind == "parallel_coordinate" and n_objectives > 1:
        return "multi-objective study (see the Pareto front)"
    compares_params = kind in ("param_importances", "parallel_coordinate")
    if compares_params and len(complete) < 2:
        return "fewer than 2 complete trials"
    if compares_params and not _varies(complete):
        return "no parameter took more than one value"
    if kind == "param_importances" and len({t.values[0] for t in complete}) < 2:
        return "every trial has the same objective value"
    if kind == "pareto_front" and not 2 <= n_objectives <= 3:
        return f"{n_objectives} objective(s); the Pareto front needs 2 or 3"
    return None


def _options(study: Any, kind: str) -> dict[str, Any]:
    """Keyword arguments for optuna's `plot_<kind>`: the first objective if there are several."""
    if kind == "pareto_front":
        return {"target_names": study.metric_names}
    if len(study.directions) == 1:
        return {}
    # Optuna 5's default importance evaluator, PED-ANOVA, takes a `target` as lower-is-better.
    flip = kind == "param_importances" and study.directions[0].name == "MAXIMIZE"
    sign, name = -1.0 if flip else 1.0, (study.metric_names or ["Objective 0"])[0]
    return {"target": lambda t: sign * t.values[0], "target_name": name}


def _write_png(ax: Any, path: Path) -> None:
    """Save the figure of `ax` as PNG through a temporary file beside `path`, then close it."""
    import matplotlib.pyplot as plt

    try:
        # The tight layout engine fits labels inside the figure with one draw at save time;
        # bbox_inches="tight" would draw it twice to crop it.
        ax.figure.set_layout_engine("tight")
        with replaced_atomically(path, "wb") as file:  # concurrent writers never share a file
            ax.figure.savefig(file, format="png", dpi=100)
    finally:
        plt.close(ax.figure)


def write_plots(study: Any, plots_dir: Path) -> list[Path]:
    """Write the sweep's plots as PNG (matplotlib) and interactive HTML (plotly) into plots_dir;
    return the written paths."""
    import matplotlib

    if "matplotlib.pyplot" not in sys.modules:
        matplotlib.use("Agg")  # headless; switching a live pyplot would close the user's figures
    import optuna.visualization as html_plots
    import optuna.visualization.matplotlib as png_plots
    from optuna.exceptions import ExperimentalWarning

    plots_dir.mkdir(parents=True, exist_ok=True)
    complete = [t for t in study.get_trials(deepcopy=False) if t.state.name == "COMPLETE"]
    written: list[Path] = []
    for kind in PLOTS:
        if (reason := _why_not(kind, len(study.directions), complete)) is not None:
            logger.info("Skipping the %s plot: %s.", kind, reason)
            continue
        options = _options(study, kind)
        png, html = plots_dir / f"{kind}.png", plots_dir / f"{kind}.html"
        # rc_context: optuna's matplotlib plots call plt.style.use("ggplot"), a global change.
        with warnings.catch_warnings(), matplotlib.rc_context():
            warnings.simplefilter("ignore", ExperimentalWarning)
            for handled in _HANDLED_WARNINGS:
                warnings.filterwarnings("ignore", handled, UserWarning)
            _write_png(getattr(png_plots, f"plot_{kind}")(study, **options), png)
            figure = getattr(html_plots, f"plot_{kind}")(study, **options)
        # plotly.js from the file beside the pages: offline, unlike a CDN link, and written once
        write_atomic(html, figure.to_html(include_plotlyjs="directory"))
        written += [png, html]
    if written:
        written.append(_write_plotly_js(plots_dir))
    return written


def _write_plotly_js(plots_dir: Path) -> Path:
    """The plotly.js bundle (~4.8 MB) that every HTML page in `plots_dir` loads, once."""
    from plotly.offline import get_plotlyjs

    path = plots_dir / PLOTLY_JS
    with replaced_atomically(path) as file:  # library code as it is: nothing to redact
        file.write(get_plotlyjs())
    return path
