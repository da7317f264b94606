"""The command line of `trainrig report PATH... [--out DIR]`."""

from __future__ import annotations

import argparse
from pathlib import Path

from trainrig.config.errors import ConfigError, exit_with

DEFAULT_OUT = "report"


def parser() -> argparse.ArgumentParser:
    """`trainrig report`'s arguments (paths, not Hydra overrides, so plain argparse)."""
    parser = argparse.ArgumentParser(
        prog="trainrig report",
        description="Tables and plots of runs, multiruns and sweeps: report.md and report.html.",
    )
    parser.add_argument(
        "paths", nargs="+", type=Path, metavar="PATH", help="run, multirun or sweep directories"
    )
    parser.add_argument(
        "--out",
        type=Path,
        help=f"where to write the report (default: {DEFAULT_OUT}/ beside the first PATH)",
    )
    return parser


def main(args: list[str]) -> int:
    """Write the report; bad paths exit 2 with one line naming the path."""
    options = parser().parse_args(args)
    from trainrig.report.discover import discover

    try:
        found = discover(options.paths)
    except ConfigError as error:
        exit_with(str(error))
    out = options.out or options.paths[0].resolve().parent / DEFAULT_OUT
    from trainrig.report.write import write_report

    for written in write_report(found, options.paths, out):
        print(written)
    return 0
