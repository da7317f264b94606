"""Run trainrig's benchmarks: `python benchmarks/run.py [NAME ...]` (all of them when none named).

Each benchmark measures a value and its baseline in the same run and reports their ratio against a
goal. Prints a table, then one JSON line per benchmark. Figures are reported, not gated: the exit
status is 0 even when a goal is missed, 1 when a benchmark crashes, 2 for an unknown name.
"""

from __future__ import annotations

import sys
import time
import traceback
from collections.abc import Callable, Sequence

import augmentation
import cli_startup
import compression
import data_parallel
import launchers
import own_module
import pipeline
import sweeps
import train_loop
from result import Result
from rich.console import Console
from rich.table import Table

BENCHMARKS: dict[str, Callable[[], Result]] = {
    "cli_startup": cli_startup.measure,
    "train_loop": train_loop.measure,
    "train_loop_default_callbacks": train_loop.measure_default_callbacks,
    "own_module": own_module.measure,
    "augmentation_throughput": augmentation.measure_throughput,
    "augmentation_overhead": augmentation.measure_overhead,
    "compression_pruning": compression.measure_pruning,
    "compression_quantization": compression.measure_quantization,
    "compression_distillation": compression.measure_distillation,
    "sweep_pruning": sweeps.measure_pruning,
    "sweep_fixed_cost": sweeps.measure_fixed_cost,
    "sweep_workers": sweeps.measure_workers,
    "sweep_workers_mlp": sweeps.measure_workers_mlp,
    "sweep_in_flight": launchers.measure_in_flight,
    "sweep_in_flight_remote": launchers.measure_in_flight_remote,
    "ddp_throughput": data_parallel.measure_throughput,
    "pipeline_throughput": pipeline.measure_throughput,
    "pipeline_memory": pipeline.measure_memory,
}


def table(results: Sequence[Result], seconds: float) -> Table:
    """The results as a rich table, with the total run time as its caption."""
    shown = Table(title="trainrig benchmarks", caption=f"total {seconds:.1f} s")
    shown.add_column("benchmark", no_wrap=True)
    for column in ("value", "baseline", "ratio", "goal", "passed"):
        shown.add_column(column, justify="right", no_wrap=True)
    shown.add_column("how")
    for result in results:
        shown.add_row(
            result.benchmark,
            f"{result.value:.4f} {result.unit}",
            f"{result.baseline:.4f} {result.unit}",
            f"{result.ratio:.3f}",
            f"<= {result.goal:.2f}",
            "[green]yes[/green]" if result.passed else "[red]no[/red]",
            result.detail,
        )
    return shown


def main(argv: Sequence[str]) -> int:
    """Run the named benchmarks (all when none), print table and JSON lines; the exit status."""
    if any(arg in ("-h", "--help") for arg in argv):
        print(f"usage: python benchmarks/run.py [NAME ...]; names: {', '.join(BENCHMARKS)}")
        return 0
    unknown = [name for name in argv if name not in BENCHMARKS]
    if unknown:
        print(
            f"run.py: unknown benchmark {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}",
            file=sys.stderr,
        )
        return 2
    start = time.perf_counter()
    results: list[Result] = []
    crashed: list[str] = []
    for name in argv or BENCHMARKS:
        try:
            results.append(BENCHMARKS[name]())
        except Exception:
            traceback.print_exc()
            crashed.append(name)
    Console(width=None if sys.stdout.isatty() else 120).print(
        table(results, time.perf_counter() - start)
    )
    for result in results:
        print(result.to_json())
    if crashed:
        print(f"run.py: crashed: {', '.join(crashed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
