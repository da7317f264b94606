"""Stress the sweep's trial accounting on the default SQLite study (not run by CI or run.py).

`python benchmarks/stress_sweep.py [--trials 300] [--joined-trials 60]`:

1. one `trainrig train -m` sweep of `--trials` smoke-sized trials with `n_workers=2` on the
   default `study.db` in its sweep directory;
2. two `trainrig train -m` processes started together, joining one SQLite study (the same
   `storage` and `study_name`, each with its own sweep directory) for `--joined-trials` trials.

Each must exit 0 with no "database is locked" in any output or log, and end with exactly the asked
number of counted trials, every one of them finished (none RUNNING or WAITING), each run exactly
once (one job directory per counted trial). Prints the figures and one JSON line; exits 1 when a
check fails.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
LOCKED = "database is locked"
# Smoke-sized trials: one epoch of one batch; random sampling (TPE's cost grows with the trials).
TRIAL = [
    "-m", "hydra/sweeper=optuna", "hydra/sweeper/sampler=random", "hydra/sweeper/pruner=none",
    "hydra.sweeper.sampler.seed=0", "hydra.sweeper.direction=maximize",
    "optimizer.lr=tag(log,interval(1e-3,1e-1))", "trainer=smoke", "trainer.max_epochs=1",
    "trainer.limit_train_batches=1", "trainer.limit_val_batches=1", "trainer.limit_test_batches=1",
    "early_stopping=none",
]  # fmt: skip


def _start(work: Path, name: str, *overrides: str) -> subprocess.Popen[str]:
    log = (work / f"{name}.log").open("w")
    command = [sys.executable, "-m", "trainrig", "train", *TRIAL, *overrides]
    return subprocess.Popen(
        command, cwd=work, stdout=log, stderr=subprocess.STDOUT, text=True, env=_env()
    )


def _env() -> dict[str, str]:
    src = str(REPO_ROOT / "src")
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": f"{src}:{path}" if path else src}


def _job_numbers(sweep_dir: Path) -> list[int]:
    return sorted(int(p.name) for p in sweep_dir.iterdir() if p.name.isdigit())


def _locked_files(work: Path) -> list[str]:
    """Every text file under `work` that mentions a locked database."""
    texts = [p for p in work.rglob("*") if p.is_file() and p.suffix in (".log", ".txt", ".json")]
    return [str(p.relative_to(work)) for p in texts if LOCKED in p.read_text(errors="replace")]


def _check(
    name: str, work: Path, codes: list[int], study: Any, n_trials: int, sweep_dirs: list[Path]
) -> dict[str, Any]:
    """The figures of one phase and the list of its failed checks."""
    from trainrig.sweeps.tally import counted_trials

    counted = counted_trials(study)
    states = Counter(t.state.name for t in counted)
    jobs = [n for d in sweep_dirs for n in _job_numbers(d)]
    numbers = sorted(t.number for t in counted)
    failures = []
    if any(codes):
        failures.append(f"exit codes {codes}")
    if locked := _locked_files(work):
        failures.append(f"'{LOCKED}' in {locked}")
    if len(counted) != n_trials:
        failures.append(f"{len(counted)} counted trials, not {n_trials}")
    if states["RUNNING"] or states["WAITING"]:
        failures.append(f"unfinished counted trials: {dict(states)}")
    if sorted(set(jobs)) != sorted(jobs):
        failures.append("a trial number has two job directories")
    if missing := sorted(set(numbers) - set(jobs)):
        failures.append(f"counted trials without a job directory (lost): {missing[:10]}")
    return {
        "phase": name,
        "asked": n_trials,
        "counted": len(counted),
        "states": dict(states),
        "all_trials": len(study.get_trials(deepcopy=False)),
        "job_dirs": len(jobs),
        "failures": failures,
    }


def one_sweep_two_workers(work: Path, n_trials: int) -> dict[str, Any]:
    """Phase 1: one sweep, two worker processes, the default study.db."""
    import optuna

    started = time.perf_counter()
    sweep = _start(
        work, "sweep", "hydra.sweep.dir=sweep", "hydra.sweeper.n_workers=2",
        f"hydra.sweeper.n_trials={n_trials}",
    )  # fmt: skip
    code = sweep.wait()
    seconds = time.perf_counter() - started
    storage = f"sqlite:///{work / 'sweep' / 'study.db'}"
    study = optuna.load_study(study_name="trainrig", storage=storage)
    figures = _check("2 workers, 1 sweep", work, [code], study, n_trials, [work / "sweep"])
    return {**figures, "seconds": round(seconds, 1), "trials_per_minute": _rate(figures, seconds)}


def two_processes_one_study(work: Path, n_trials: int) -> dict[str, Any]:
    """Phase 2: two `trainrig train -m` processes joining one SQLite study."""
    import optuna

    storage = f"sqlite:///{work / 'shared.db'}"
    common = [f"hydra.sweeper.storage={storage}", "hydra.sweeper.study_name=shared"]
    started = time.perf_counter()
    processes = [
        _start(work, f"process{i}", *common, f"hydra.sweep.dir=process{i}",
               f"hydra.sweeper.n_trials={n_trials}")
        for i in (0, 1)
    ]  # fmt: skip
    codes = [p.wait() for p in processes]
    seconds = time.perf_counter() - started
    study = optuna.load_study(study_name="shared", storage=storage)
    dirs = [work / "process0", work / "process1"]
    figures = _check("2 processes, 1 study", work, codes, study, n_trials, dirs)
    per_process = [len(_job_numbers(d)) for d in dirs]
    if not all(per_process):
        figures["failures"].append(f"a process ran no trial: {per_process}")
    return {
        **figures,
        "per_process": per_process,
        "seconds": round(seconds, 1),
        "trials_per_minute": _rate(figures, seconds),
    }


def _rate(figures: dict[str, Any], seconds: float) -> float:
    return round(60 * figures["counted"] / seconds, 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=300, help="trials of phase 1")
    parser.add_argument("--joined-trials", type=int, default=60, help="trials of phase 2")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO_ROOT / "src"))
    with tempfile.TemporaryDirectory() as temporary:
        work = args.keep or Path(temporary)
        (work / "one").mkdir(parents=True, exist_ok=True)
        (work / "joined").mkdir(exist_ok=True)
        results = [
            one_sweep_two_workers(work / "one", args.trials),
            two_processes_one_study(work / "joined", args.joined_trials),
        ]
    for r in results:
        verdict = "ok" if not r["failures"] else "FAILED: " + "; ".join(r["failures"])
        print(
            f"{r['phase']}: {r['counted']}/{r['asked']} counted {r['states']}, "
            f"{r['all_trials']} trials in the study, {r['job_dirs']} job directories, "
            f"{r['seconds']} s ({r['trials_per_minute']} trials/min): {verdict}"
        )
    print(json.dumps({"benchmark": "stress_sweep", "results": results}))
    return 1 if any(r["failures"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
