"""`scripts/mutation [MODULE ...]`: mutation scores of the modules in targets.py.

Each module's mutants (operators.py) run against the module's fast in-process tests
(runner.py). Modules with more than `--sample` mutants run a seeded random sample of them.
"""

from __future__ import annotations

import argparse
import ast
import random
import sys
import time
from pathlib import Path

from mutants.operators import Mutant, mutants_of
from mutants.runner import Score, baseline_seconds, fast_tests, preload, run_mutants
from mutants.targets import TARGETS


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="scripts/mutation", description=__doc__)
    parser.add_argument("modules", nargs="*", help="paths from targets.py (default: all)")
    parser.add_argument("--sample", type=int, default=60, help="most mutants per module")
    parser.add_argument("--seed", type=int, default=0, help="seed of the sample")
    parser.add_argument("--max-test-seconds", type=float, default=0.5, help="slowest test kept")
    parser.add_argument("--mutant", type=int, action="append", help="run only these numbers")
    parser.add_argument("--list", action="store_true", help="list the mutants, run nothing")
    parser.add_argument("--verbose", action="store_true", help="print every mutant's outcome")
    return parser.parse_args()


def _chosen(mutants: list[Mutant], args: argparse.Namespace) -> list[Mutant]:
    if args.mutant:
        return [m for m in mutants if m.index in set(args.mutant)]
    if len(mutants) <= args.sample:
        return mutants
    return sorted(random.Random(args.seed).sample(mutants, args.sample), key=lambda m: m.index)


def _score_module(path: str, args: argparse.Namespace) -> Score | None:
    tree = ast.parse(Path(path).read_text(encoding="utf-8"), path)
    mutants = mutants_of(tree)
    chosen = _chosen(mutants, args)
    if args.list:
        print("\n".join(f"{path} {m.describe()}" for m in chosen))
        return None
    tests = fast_tests(TARGETS[path], args.max_test_seconds, timeout=600)
    seconds = baseline_seconds(tests, timeout=600) if tests else None
    if seconds is None:
        print(f"{path}: no fast test passes unmutated; add in-process tests", file=sys.stderr)
        return Score(module=path, total=len(mutants))
    print(f"{path}: {len(chosen)} of {len(mutants)} mutants, {len(tests)} tests ({seconds:.1f} s)")

    def report(mutant: Mutant, outcome: str) -> None:
        if args.verbose or outcome == "SURVIVED":
            print(f"  {outcome:8} {mutant.describe()}", flush=True)

    score = run_mutants(Path(path), tree, chosen, tests, 2 * seconds + 10, report)
    score.total = len(mutants)
    return score


def main() -> int:
    args = _arguments()
    modules = args.modules or list(TARGETS)
    unknown = [m for m in modules if m not in TARGETS]
    if unknown:
        print(f"scripts/mutation: not in targets.py: {', '.join(unknown)}", file=sys.stderr)
        return 2
    if not args.list:
        preload()
    start = time.monotonic()
    scores = [s for m in modules if (s := _score_module(m, args)) is not None]
    if scores:
        print(f"\n{'module':44} {'run/all':>9} {'killed':>7} {'timeout':>7} {'survived':>8} score")
        for s in scores:
            dead = len(s.killed)
            ratio = f"{s.run}/{s.total}"
            print(
                f"{s.module:44} {ratio:>9} {dead:>7} {len(s.timed_out):>7}"
                f" {len(s.survived):>8} {s.percent:5.1f}%"
            )
        print(f"({time.monotonic() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
