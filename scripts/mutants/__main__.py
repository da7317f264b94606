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
from mutants.runner import Score, fast_tests, preload, run_mutants
from mutants.targets import TARGETS


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="scripts/mutation", description=__doc__)
    parser.add_argument("modules", nargs="*", help="paths from targets.py (default: all)")
    parser.add_argument("--sample", type=int, default=10, help="most mutants per module")
    parser.add_argument("--seed", type=int, default=0, help="seed of the sample")
    parser.add_argument("--max-test-seconds", type=float, default=0.5, help="slowest test kept")
    parser.add_argument("--mutant", type=int, action="append", help="run only these numbers")
    parser.add_argument("--list", action="store_true", help="list the mutants, run nothing")
    parser.add_argument("--verbose", action="store_true", help="print every mutant's outcome")
    parser.add_argument(
        "--old-tests",
        type=Path,
        help="a file of test ids (pytest --collect-only -q of an earlier commit): also score "
        "what those tests alone kill",
    )
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
    durations = fast_tests(TARGETS[path], args.max_test_seconds, timeout=900)
    if not durations:
        print(f"{path}: no fast test passes unmutated; add in-process tests", file=sys.stderr)
        return Score(module=path, total=len(mutants))
    seconds = sum(durations.values())
    print(
        f"{path}: {len(chosen)} of {len(mutants)} mutants, {len(durations)} tests ({seconds:.1f} s)"
    )

    def report(mutant: Mutant, outcome: str) -> None:
        if args.verbose or not outcome.startswith("killed"):
            print(f"  {outcome:8} {mutant.describe()}", flush=True)

    old = frozenset(args.old_tests.read_text().split()) if args.old_tests else frozenset()
    timeout = 3 * seconds + 90  # the child's start and collection (slow on a busy machine)
    score = run_mutants(Path(path), tree, chosen, list(durations), timeout, report, old)
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
        columns = ("run/all", "killed", "timeout", "survived", "score", "old")
        print(f"\n{'module':44} " + " ".join(f"{c:>8}" for c in columns))
        for s in scores:
            dead = len(s.killed)
            ratio = f"{s.run}/{s.total}"
            values = (ratio, dead, len(s.timed_out), len(s.survived))
            print(
                f"{s.module:44} "
                + " ".join(f"{v:>8}" for v in values)
                + f" {s.percent:7.1f}% {s.percent_old:7.1f}%"
            )
        print(f"({time.monotonic() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
