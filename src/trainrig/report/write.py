"""Put the report together: plots written, sweep plots copied, report.md and report.html."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from trainrig.report.blocks import Block, Heading, Image, Link, Table, Text, to_html, to_markdown
from trainrig.report.curves import read_curves
from trainrig.report.discover import Found, Run, Sweep
from trainrig.report.objective import objective_of, sorted_by
from trainrig.report.plots import plot_overlay, plot_run
from trainrig.report.seed_groups import group_by_seed
from trainrig.report.table import runs_table
from trainrig.rundir.results import write_atomic

TITLE = "trainrig report"
PLOTS_DIR = "plots"
SWEEPS_DIR = "sweeps"


def run_labels(paths: list[Path]) -> dict[Path, str]:
    """Each path relative to the folder all share (its own name for a single one)."""
    if len(paths) == 1:
        return {paths[0]: paths[0].resolve().name}
    common = Path(os.path.commonpath([p.resolve() for p in paths]))
    relative = {p: p.resolve().relative_to(common).as_posix() for p in paths}
    return {p: p.resolve().name if label == "." else label for p, label in relative.items()}


def _row_label(run: Run, labels: dict[Path, str]) -> str:
    """A run's label; a seed group's lists its runs'."""
    return ", ".join(labels[r.path] for r in run.grouped) if run.grouped else labels[run.path]


def _file_name(index: int, label: str) -> str:
    return f"{index:02d}-{re.sub(r'[^A-Za-z0-9._-]+', '_', label)}"


def _relative(path: Path, out: Path) -> str:
    return Path(os.path.relpath(path.resolve(), out.resolve())).as_posix()


def runs_blocks(runs: list[Run], out: Path) -> list[Block]:
    """The table of runs (best first; runs that differ only by seed as one row, mean ± sd), the
    overlay of their curves, then each run's (each repetition's) curves."""
    objective = objective_of(runs)
    ordered = sorted_by(objective, group_by_seed(runs))
    sources = {p: f for run in ordered for p, f in run.curves_files().items()}
    labels = run_labels([*{r.path: r for run in ordered for r in (*run.grouped, run)}, *sources])
    table = runs_table(ordered, objective.metric)
    differ = ", ".join(f"`{k}`" for k in table.config_keys) or "none: every run has one config"
    rows = [
        [str(i + 1), _row_label(r, labels), *row]
        for i, (r, row) in enumerate(zip(ordered, table.rows, strict=True))
    ]
    links = {i: _relative(r.path, out) for i, r in enumerate(ordered)}
    spread = any(r.spread for r in ordered)
    grouped = " Mean ± sample sd over a run's repetitions or over runs that differ only by seed."
    said = f"Best first, {objective.describe()}. Config keys that differ: {differ}."
    blocks: list[Block] = [
        Heading(2, f"Runs ({len(runs)})"),
        Text(said + grouped * spread),
        Table(header=["#", "run", *table.header], rows=rows, links=links, link_column=1),
    ]
    curves = {labels[path]: read_curves(file) for path, file in sources.items()}
    blocks += [Heading(2, "Training curves")]
    if len(curves) > 1:
        overlay = plot_overlay(curves, out / PLOTS_DIR / "overlay.png")
        blocks.append(Image(_relative(overlay, out), "every run overlaid"))
    for i, label in enumerate(curves):
        png = plot_run(curves[label], label, out / PLOTS_DIR / f"{_file_name(i + 1, label)}.png")
        blocks += [Heading(3, f"{i + 1}. `{label}`"), Image(_relative(png, out), label)]
    return blocks


def sweep_blocks(sweeps: list[Sweep], out: Path) -> list[Block]:
    """Each sweep's summary and its own plots, copied next to the report."""
    blocks: list[Block] = [Heading(2, f"Sweeps ({len(sweeps)})")] if sweeps else []
    for i, sweep in enumerate(sweeps):
        name = sweep.path.resolve().name
        copied = out / SWEEPS_DIR / _file_name(i + 1, name)
        copied.mkdir(parents=True, exist_ok=True)
        trials = ", ".join(f"{n} {s.lower()}" for s, n in sweep.summary.get("trials", {}).items())
        blocks += [Heading(3, name), Text(f"Trials: {trials or 'none'}.")]
        best = sweep.summary.get("best")
        if best:
            params = ", ".join(f"`{k}={v}`" for k, v in best["params"].items())
            blocks.append(Text(f"Best: trial {best['number']}, {best['value']:.4g}; {params}."))
        for plot in sweep.plots:  # plotly.min.js too: the HTML pages load it from beside them
            target = Path(shutil.copy2(plot, copied / plot.name))
            if plot.suffix == ".png":
                blocks.append(Image(_relative(target, out), plot.stem))
            elif plot.suffix == ".html":
                blocks.append(Link(_relative(target, out), f"{plot.stem} (interactive)"))
    return blocks


def write_report(found: Found, paths: list[Path], out: Path) -> list[Path]:
    """Write report.md, report.html and their images into `out`; return the two reports."""
    out.mkdir(parents=True, exist_ok=True)
    shown = ", ".join(f"`{p}`" for p in paths)
    blocks: list[Block] = [Heading(1, TITLE), Text(f"From {shown}.")]
    blocks += runs_blocks(found.runs, out) + sweep_blocks(found.sweeps, out)
    markdown, page = out / "report.md", out / "report.html"
    write_atomic(markdown, to_markdown(blocks))
    write_atomic(page, to_html(blocks, TITLE))
    return [markdown, page]
