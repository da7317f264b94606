"""trainrig's Optuna sweeper (`hydra/sweeper=optuna`): grammar, real sweeps, resume, faults."""

from __future__ import annotations

import json
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from trainrig.config.errors import ConfigError
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
    with closing(sqlite3.connect(tmp_path / "sweep" / "study.db")) as study_file:
        assert study_file.execute("PRAGMA journal_mode").fetchone() == ("wal",)
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
        "train", *SWEEP, *grid, "hydra.sweeper.n_trials=5", "model=cnn,mlp", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    study = optuna.load_study(study_name="trainrig", storage=f"sqlite:///{tmp_path}/sweep/study.db")
    assert sorted(t.params["model"] for t in study.trials) == ["cnn", "mlp"]  # grid exhausted


# Model-based samplers start modelling after one trial here, so the 3-trial sweep exercises them.
SAMPLER_RUNS = {
    "tpe": ["+hydra.sweeper.sampler.n_startup_trials=1"],
    "gp": ["+hydra.sweeper.sampler.n_startup_trials=1"],
    "cmaes": ["+hydra.sweeper.sampler.n_startup_trials=1"],
    "random": [],
    "qmc": [],
    "nsgaii": ["+hydra.sweeper.sampler.population_size=2"],
}


@pytest.mark.parametrize("sampler", sorted(SAMPLER_RUNS))
def test_every_sampler_runs_a_real_sweep(
    sampler: str, trainrig_cli: CliRunner, tmp_path: Path
) -> None:
    result = trainrig_cli(
        "train", *SWEEP, f"hydra/sweeper/sampler={sampler}", *SAMPLER_RUNS[sampler],
        "hydra.sweeper.n_trials=3", "optimizer.lr=tag(log,interval(1e-3,1e-1))",
        "model.dropout=interval(0.0,0.5)", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert _summary(tmp_path)["trials"] == {"COMPLETE": 3}
    study = optuna.load_study(study_name="trainrig", storage=f"sqlite:///{tmp_path}/sweep/study.db")
    assert len({t.params["optimizer.lr"] for t in study.trials}) >= 2  # it sampled, not stuck


def test_sweeper_config_is_registered_without_importing_optuna() -> None:
    assert REPO_ROOT.is_dir()
    import subprocess
    import sys

    script = (
        "import sys\nfrom trainrig.cli.main import main\n"
        "try:\n    main(['train', '--cfg', 'hydra', 'hydra/sweeper=optuna'])\nexcept SystemExit:\n"
        "    pass\nprint('OPTUNA', 'optuna' in sys.modules, file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True
    )
    assert "trainrig_optuna_sweeper.optuna_sweeper.OptunaSweeper" in done.stdout
    assert "OPTUNA False" in done.stderr


FAULTY_MODEL = '''
import torch


def build(input_shape, num_classes, fault="none"):
    """A linear classifier, or the fault a test asks for."""
    if fault == "error":
        raise RuntimeError("injected failure")
    if fault == "oom":
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")
    model = torch.nn.Sequential(
        torch.nn.Flatten(), torch.nn.Linear(int(torch.tensor(input_shape).prod()), num_classes)
    )
    if fault == "nan_weights":
        torch.nn.init.constant_(model[1].weight, float("nan"))
    return model
'''


def _faulty_model_option(cwd: Path) -> None:
    (cwd / "faulty_model.py").write_text(FAULTY_MODEL)
    (cwd / "conf" / "model").mkdir(parents=True)
    (cwd / "conf" / "model" / "faulty.yaml").write_text(
        "# A test model that fails on demand.\n_target_: faulty_model.build\n_partial_: true\n"
        "fault: none\n"
    )


def test_exceptions_nan_and_out_of_memory_fail_their_trials_and_the_sweep_completes(
    trainrig_cli: CliRunner, tmp_path: Path
) -> None:
    _faulty_model_option(tmp_path)
    result = trainrig_cli(
        "train", *SWEEP, "model=faulty", "hydra/sweeper/sampler=grid",
        "hydra.sweeper.n_trials=4",
        "hydra.sweeper.direction=minimize", "optimized_metric=val/loss",
        "hydra.sweeper.max_failure_rate=1.0", "model.fault=none,error,oom,nan_weights",
        "on_nonfinite_loss=continue",  # on to a nan objective (stop: tests/test_failing_runs)
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    study = optuna.load_study(study_name="trainrig", storage=f"sqlite:///{tmp_path}/sweep/study.db")
    by_fault = {t.params["model.fault"]: t for t in study.trials}
    assert by_fault["none"].state == optuna.trial.TrialState.COMPLETE
    errors = {
        fault: by_fault[fault].user_attrs.get("error", "")
        for fault in ("error", "oom", "nan_weights")
    }
    assert errors["error"].startswith("RuntimeError: injected failure")
    assert errors["oom"].startswith("OutOfMemoryError: CUDA out of memory")
    assert errors["nan_weights"] == "the objective is nan"
    assert all(by_fault[f].state == optuna.trial.TrialState.FAIL for f in errors)
    assert _summary(tmp_path)["trials"] == {"COMPLETE": 1, "FAIL": 3}
    assert "Error executing job" not in result.stderr


def test_multi_objective_sweep_reports_the_pareto_front(
    trainrig_cli: CliRunner, tmp_path: Path
) -> None:
    result = trainrig_cli(
        "train", *SWEEP, "hydra/sweeper/sampler=nsgaii", "hydra.sweeper.n_trials=4",
        "hydra.sweeper.direction=[maximize,minimize]",
        "optimized_metric=[val/acc,model/parameters]", "model=cnn,mlp", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    front = _summary(tmp_path)["pareto_front"]
    study = optuna.load_study(study_name="trainrig", storage=f"sqlite:///{tmp_path}/sweep/study.db")
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    for point in front:  # no complete trial is better in one objective and no worse in the other
        acc, size = point["values"]
        assert not any(
            (t.values[0] >= acc and t.values[1] <= size)
            and (t.values[0] > acc or t.values[1] < size)
            for t in complete
        )
    assert "Pareto front" in result.stderr
    assert (tmp_path / "sweep" / "plots" / "pareto_front.png").is_file()


def test_custom_search_space_adds_conditional_parameters(
    trainrig_cli: CliRunner, tmp_path: Path
) -> None:
    (tmp_path / "conditional_space.py").write_text(
        "def extend(cfg, trial):\n"
        "    if trial.params['model'] == 'mlp':\n"
        "        trial.suggest_categorical('model.dropout', [0.0, 0.3])\n"
    )
    result = trainrig_cli(
        "train", *SWEEP, "hydra/sweeper/sampler=random", "hydra.sweeper.n_trials=4",
        "hydra.sweeper.custom_search_space=conditional_space.extend", "model=cnn,mlp",
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    study = optuna.load_study(study_name="trainrig", storage=f"sqlite:///{tmp_path}/sweep/study.db")
    for trial in study.trials:
        assert ("model.dropout" in trial.params) == (trial.params["model"] == "mlp")
        if trial.params["model"] == "mlp":
            config = (tmp_path / "sweep" / str(trial.number) / "config.yaml").read_text()
            assert f"dropout: {trial.params['model.dropout']}" in config


def test_installing_the_old_hydra_optuna_sweeper_too_is_reported(
    trainrig_cli: CliRunner, tmp_path: Path
) -> None:
    old = tmp_path / "site" / "hydra_plugins" / "hydra_optuna_sweeper"
    old.mkdir(parents=True)
    (old / "__init__.py").write_text("")
    shown = ["train", "--cfg", "hydra", "hydra/sweeper=optuna"]
    result = trainrig_cli(*shown, cwd=tmp_path, env={"PYTHONPATH": str(tmp_path / "site")})
    assert "hydra-optuna-sweeper is installed too" in result.stderr
    assert "pip uninstall hydra-optuna-sweeper" in result.stderr
    clean = trainrig_cli(*shown, cwd=tmp_path)
    assert "hydra-optuna-sweeper" not in clean.stderr
