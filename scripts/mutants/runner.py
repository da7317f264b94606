"""Run a module's mutants against its tests: each run is a forked child with a time limit.

The parent imports torch, Lightning, Hydra, Optuna and pytest once; each child then imports
trainrig afresh, with an import hook that serves the mutated module (nothing is written to the
source tree), and runs `pytest -x` on the chosen tests. A mutant is killed when the tests fail,
error or run past the time limit. Tests that start a `trainrig` subprocess do not see the
mutant; the fast selection below leaves most of them out anyway.
"""

from __future__ import annotations

import ast
import contextlib
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import CodeType, ModuleType

import pytest

from mutants.operators import Mutant, mutated

PRELOAD = ("torch", "pytorch_lightning", "hydra", "omegaconf", "optuna", "pytest", "hypothesis")
PYTEST_ARGS = ("-x", "-q", "-p", "no:cacheprovider", "-W", "ignore")


class MutantFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves `code` as the module `name` (from `path`, for its `__file__`)."""

    def __init__(self, name: str, path: Path, code: CodeType) -> None:
        self.name, self.path, self.code = name, path, code

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != self.name:
            return None
        return importlib.util.spec_from_file_location(fullname, self.path, loader=self)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        exec(self.code, module.__dict__)


def preload() -> None:
    """Import the heavy libraries once, in the parent, so each child starts in a second."""
    for name in PRELOAD:
        importlib.import_module(name)


def in_child(work: Callable[[], int], timeout: float, log: Path | None = None) -> int | None:
    """Run `work` in a forked child; its exit code, or None when it ran past `timeout`."""
    pid = os.fork()
    if pid == 0:  # the child: its own process group, so a timeout also ends its subprocesses
        code = 3
        try:
            os.setpgid(0, 0)
            sink = os.open(log or os.devnull, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            os.dup2(sink, 1)
            os.dup2(sink, 2)
            code = work()
        finally:
            os._exit(code)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return None


def _forget_trainrig() -> None:
    for name in [n for n in sys.modules if n.split(".")[0] in {"trainrig", "hydra_plugins"}]:
        del sys.modules[name]


def _pytest(args: Sequence[str], plugins: Sequence[object] = ()) -> int:
    _forget_trainrig()
    return int(pytest.main([*PYTEST_ARGS, *args], plugins=list(plugins)))


class _Durations:
    """A pytest plugin that records each test's outcome and its total time."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.failed: set[str] = set()

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        nodeid = report.nodeid
        self.seconds[nodeid] = self.seconds.get(nodeid, 0.0) + report.duration
        if report.failed:
            self.failed.add(nodeid)


class _InProcessOnly:
    """A pytest plugin that leaves out tests running trainrig in a subprocess (they cannot see
    the mutant) or needing a PostgreSQL server."""

    SUBPROCESS_FIXTURES = frozenset({"trainrig_cli", "postgres_url"})

    def pytest_collection_modifyitems(
        self, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        kept = [i for i in items if not self.SUBPROCESS_FIXTURES & set(_fixtures(i))]
        left_out = [i for i in items if i not in kept]
        items[:] = kept
        config.hook.pytest_deselected(items=left_out)


def _fixtures(item: pytest.Item) -> list[str]:
    return list(getattr(item, "fixturenames", []))  # test functions have them, other items not


def fast_tests(test_files: Sequence[str], max_seconds: float, timeout: float) -> dict[str, float]:
    """The tests of `test_files` that pass unmutated, each within `max_seconds`: their seconds."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "durations.json"

        def work() -> int:
            durations = _Durations()
            code = _pytest(test_files, [durations, _InProcessOnly()])
            passed = {k: v for k, v in durations.seconds.items() if k not in durations.failed}
            out.write_text(json.dumps(passed))
            return code

        in_child(work, timeout, Path(folder) / "log")
        seconds: dict[str, float] = json.loads(out.read_text()) if out.exists() else {}
    return {nodeid: s for nodeid, s in sorted(seconds.items()) if s <= max_seconds}


@dataclass
class Score:
    """The outcome of one module's mutants."""

    module: str
    total: int
    tests: int = 0
    killed: list[Mutant] = field(default_factory=list)
    timed_out: list[Mutant] = field(default_factory=list)
    survived: list[Mutant] = field(default_factory=list)
    killed_by_new: list[Mutant] = field(default_factory=list)  # old tests let them through

    @property
    def run(self) -> int:
        return len(self.killed) + len(self.timed_out) + len(self.survived)

    @property
    def percent(self) -> float:
        return 100.0 * (self.run - len(self.survived)) / self.run if self.run else 0.0

    @property
    def percent_old(self) -> float:
        """The score the old tests alone get (the `old` of run_mutants)."""
        caught = self.run - len(self.survived) - len(self.killed_by_new)
        return 100.0 * caught / self.run if self.run else 0.0


def module_name(path: Path) -> str:
    """`src/trainrig/config/validate.py` -> `trainrig.config.validate`."""
    parts = path.with_suffix("").parts
    return ".".join(parts[parts.index("src") + 1 :])


class _FirstFailure:
    """A pytest plugin that writes the id of the first failing test (or file) to `out`."""

    def __init__(self, out: Path) -> None:
        self.out = out

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self._note(report.nodeid, report.failed)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        self._note(report.nodeid, report.failed)

    def _note(self, nodeid: str, failed: bool) -> None:
        if failed and not self.out.exists():
            self.out.write_text(nodeid)


def _is_old(nodeid: str, old: frozenset[str]) -> bool:
    """Whether `nodeid` (a test, or a file that failed to collect) is one of the old tests."""
    return nodeid in old or any(o.startswith(f"{nodeid}::") for o in old)


def run_mutants(
    path: Path,
    tree: ast.Module,
    mutants: Sequence[Mutant],
    tests: Sequence[str],
    timeout: float,
    report: Callable[[Mutant, str], None],
    old: frozenset[str] = frozenset(),
) -> Score:
    """Run each of `mutants` of the module at `path` against `tests`, the `old` ones first (so
    that a mutant the old tests kill is seen killed by one of them: `Score.killed_by_new`)."""
    name = module_name(path)
    score = Score(module=str(path), total=len(mutants), tests=len(tests))
    ordered = sorted(tests, key=lambda t: t not in old)
    for mutant in mutants:
        code = compile(mutated(tree, mutant.index), str(path), "exec")
        with tempfile.TemporaryDirectory() as folder:
            failure = Path(folder) / "first_failure"

            def work(code: CodeType = code, failure: Path = failure) -> int:
                sys.meta_path.insert(0, MutantFinder(name, path.resolve(), code))
                return _pytest(ordered, [_FirstFailure(failure)])

            exit_code = in_child(work, timeout)
            killer = failure.read_text() if failure.exists() else ""
        if exit_code is None:
            score.timed_out.append(mutant)
            report(mutant, "timeout")
        elif exit_code == 0:
            score.survived.append(mutant)
            report(mutant, "SURVIVED")
        else:
            score.killed.append(mutant)
            if old and not _is_old(killer, old):
                score.killed_by_new.append(mutant)
            report(mutant, f"killed by {killer or 'an error'}")
    return score
