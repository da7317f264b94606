"""trainrig's Optuna sweeper (`hydra/sweeper=optuna`): grammar, real sweeps, resume, faults."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from trainrig.errors import ConfigError
from trainrig.sweeps.search_space import search_space

from .conftest import REPO_ROOT, CliRunner

# hydra-optuna-sweeper's documented grammar, except that range() excludes its stop as Hydra does
GRAMMAR = [
    ("interval(0.1, 0.5)", FloatDistribution(0.1, 0.5)),
    ("tag(log, interval(1e-4, 1e-1))", FloatDistribution(1e-4, 1e-1, log=True)),
    ("int(interval(1, 8))", IntDistribution(1, 8)),
    ("range(1, 4)", IntDistribution(1, 3)),
    ("range(2, 11, 4)", IntDistribution(2, 10, step=4)),
    ("choice(cnn, mlp)", CategoricalDistribution(["cnn", "mlp"])),
    ("32,64,128", CategoricalDistribution([32, 64, 128])),
]


@pytest.mark.parametrize(("text", "expected"), GRAMMAR, ids=[g[0] for g in GRAMMAR])
def test_sweep_grammar_maps_to_optuna_distributions(text: str, expected: object) -> None:
    space = search_space({"key": text}, [])
    assert space.distributions == {"key": expected}


def test_plain_values_are_fixed_overrides() -> None:
    space = search_space({"seed": 3}, ["trainer=smoke", "model=cnn,mlp"])
    assert space.fixed == ["seed=3", "trainer=smoke"]
    assert space.grid == {"model": ["cnn", "mlp"]}


def test_malformed_search_space_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="search space"):
        search_space({"optimizer.lr": "interval(0.1"}, [])


SWEEP = [
    "-m", "hydra/sweeper=optuna", "hydra.sweeper.direction=maximize", "trainer=smoke",
    "hydra.sweep.dir=sweep", "hydra.sweeper.sampler.seed=0",
]  # fmt: skip


def _summary(cwd: Path) -> dict:  # type: ignore[type-arg]
    return json.loads((cwd / "sweep" / "summary.json").read_text())  # type: ignore[no-any-return]


def test_sweep_runs_resumes_to_the_total_and_writes_a_best_experiment(
    trainrig_cli: CliRunner, tmp_path: Path
) -> None:
    space = ["optimizer.lr=tag(log,interval(1e-3,1e-1))", "model=cnn,mlp"]
    first = trainrig_cli("train", *SWEEP, "hydra.sweeper.n_trials=3", *space, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert _summary(tmp_path)["trials"] == {"COMPLETE": 3}
    again = trainrig_cli("train", *SWEEP, "hydra.sweeper.n_trials=5", *space, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    summary = _summary(tmp_path)
    assert summary["trials"] == {"COMPLETE": 5}  # 3 kept, 2 added: n_trials is the total
    jobs = sorted(p.name for p in (tmp_path / "sweep").iterdir() if p.name.isdigit())
    assert jobs == ["0", "1", "2", "3", "4"]
    assert all((tmp_path / "sweep" / j / "metrics.json").is_file() for j in jobs)
    # best.yaml is an experiment that composes and trains
    (tmp_path / "experiments").mkdir()
    shutil.copy(tmp_path / "sweep" / "best.yaml", tmp_path / "experiments" / "best.yaml")
    rerun = trainrig_cli("train", "experiment=best", "trainer=smoke", cwd=tmp_path)
    assert rerun.returncode == 0, rerun.stderr
    best = summary["best"]
    config = (next((tmp_path / "outputs" / "train" / "runs").iterdir()) / "config.yaml").read_text()
    assert (
        f"_target_: trainrig.models.{best['params']['model']}.build_{best['params']['model']}"
        in config
    )


def test_failed_trials_are_recorded_and_the_sweep_goes_on(
    trainrig_cli: CliRunner, tmp_path: Path
) -> None:
    result = trainrig_cli(
        "train", *SWEEP, "hydra.sweeper.n_trials=6", "hydra.sweeper.max_failure_rate=1.0",
        "optimizer.lr=choice(-1,0.01)", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    trials = _summary(tmp_path)["trials"]
    assert trials.get("FAIL", 0) >= 1 and sum(trials.values()) == 6
    study = optuna.load_study(study_name="trainrig", storage=f"sqlite:///{tmp_path}/sweep/study.db")
    failed = [t for t in study.trials if t.state == optuna.trial.TrialState.FAIL]
    assert all("optimizer.lr: must be > 0" in t.user_attrs["error"] for t in failed)


def test_too_many_failures_stop_the_sweep(trainrig_cli: CliRunner, tmp_path: Path) -> None:
    result = trainrig_cli(
        "train", *SWEEP, "hydra.sweeper.n_trials=4", "hydra.sweeper.max_failure_rate=0.0",
        "optimizer.lr=choice(-1,-2)", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 2
    assert "trials failed, more than hydra.sweeper.max_failure_rate=0.0" in result.stderr


def test_grid_sampler_takes_its_grid_from_the_search_space(
    trainrig_cli: CliRunner, tmp_path: Path
) -> None:
    grid = ["hydra/sweeper/sampler=grid"]
    result = trainrig_cli(
        "train", *SWEEP, *grid, "hydra.sweeper.n_trials=2", "model=cnn,mlp", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    study = optuna.load_study(study_name="trainrig", storage=f"sqlite:///{tmp_path}/sweep/study.db")
    assert sorted(t.params["model"] for t in study.trials) == ["cnn", "mlp"]


def test_sweeper_config_is_registered_without_importing_optuna() -> None:
    assert REPO_ROOT.is_dir()
    import subprocess
    import sys

    script = (
        "import sys\nfrom trainrig.cli import main\n"
        "try:\n    main(['train', '--cfg', 'hydra', 'hydra/sweeper=optuna'])\nexcept SystemExit:\n"
        "    pass\nprint('OPTUNA', 'optuna' in sys.modules, file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True
    )
    assert "trainrig_optuna_sweeper.optuna_sweeper.OptunaSweeper" in done.stdout
    assert "OPTUNA False" in done.stderr
