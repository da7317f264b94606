"""`hydra.sweeper.enqueue` (configurations run first, e.g. a previous sweep's best.yaml) and
`hydra.sweeper.constraints` (bounds on a run's metrics that mark trials infeasible)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import optuna
import pytest
from hydra.core.utils import JobReturn
from omegaconf import OmegaConf

from trainrig.config.errors import ConfigError
from trainrig.sweeps.constraints import (
    check_constraints,
    check_study_constraints,
    parse_constraints,
    record_constraints,
)
from trainrig.sweeps.enqueue import enqueued_configs
from trainrig.sweeps.outputs import best_experiment, summary
from trainrig.sweeps.search_space import search_space

from .conftest import CliRunner, run_trainrig

SIZES = 'model.hidden_sizes=choice("[8]","[64,64]")'  # 618 and 8098 parameters on digits
LR = "optimizer.lr=interval(0.01,0.1)"
SWEEP = [
    "train", "-m", "hydra/sweeper=optuna", "trainer=smoke", "model=mlp", "hydra.sweep.dir=sweep",
    "hydra.sweeper.sampler.seed=0", SIZES, LR,
]  # fmt: skip
BIG = {"model.hidden_sizes": "[64,64]", "optimizer.lr": 0.05}  # infeasible, and the better
SMALL = {"model.hidden_sizes": "[8]", "optimizer.lr": 0.02}  # from a previous sweep's best.yaml
LIMITS = ["model/parameters <= 1000", "val/loss < 100"]


def _study(cwd: Path) -> optuna.Study:
    return optuna.load_study(study_name="trainrig", storage=f"sqlite:///{cwd}/sweep/study.db")


def _warm_sweep(cwd: Path, n_trials: int) -> subprocess.CompletedProcess[str]:
    enqueue = '[{model.hidden_sizes:"[64,64]",optimizer.lr:0.05},previous/best.yaml]'
    constraints = "[" + ",".join(f'"{c}"' for c in LIMITS) + "]"
    return run_trainrig(
        *SWEEP, f"hydra.sweeper.n_trials={n_trials}", f"hydra.sweeper.enqueue={enqueue}",
        f"hydra.sweeper.constraints={constraints}", cwd=cwd,
    )  # fmt: skip


@pytest.fixture(scope="module")
def warm(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A sweep that enqueues BIG and a best.yaml holding SMALL, then the same sweep resumed."""
    cwd = tmp_path_factory.mktemp("warm")
    (cwd / "previous").mkdir()
    best = best_experiment({"model.hidden_sizes": "[8]", "optimizer.lr": 0.02}, 0.3, 4)
    (cwd / "previous" / "best.yaml").write_text(best)  # `hidden_sizes: [8]`, a list
    first = _warm_sweep(cwd, 3)
    assert first.returncode == 0, first.stderr
    state = {"cwd": cwd, "first": _study(cwd).trials}
    state["summary"] = json.loads((cwd / "sweep" / "summary.json").read_text())
    resumed = _warm_sweep(cwd, 4)
    assert resumed.returncode == 0, resumed.stderr
    state["resumed"] = _study(cwd).trials
    return state


def test_enqueued_configurations_run_first_with_exactly_their_values(warm: dict[str, Any]) -> None:
    trials = warm["first"]
    assert len(trials) == 3
    assert trials[0].params == BIG
    assert trials[1].params == SMALL  # best.yaml's list [8] is the choice "[8]"
    overrides = (warm["cwd"] / "sweep" / "1" / ".hydra" / "overrides.yaml").read_text()
    assert "model.hidden_sizes=[8]" in overrides and "optimizer.lr=0.02" in overrides


def test_a_resumed_sweep_does_not_enqueue_them_again(warm: dict[str, Any]) -> None:
    trials = warm["resumed"]
    assert len(trials) == 4  # n_trials is the total: one more, sampled
    assert [t.params for t in trials].count(BIG) == 1
    assert [t.params for t in trials].count(SMALL) == 1


def test_constraints_mark_infeasible_trials_and_the_best_is_feasible(warm: dict[str, Any]) -> None:
    trials, cwd = warm["first"], warm["cwd"]
    for trial in trials:
        metrics = json.loads((cwd / "sweep" / str(trial.number) / "metrics.json").read_text())
        assert trial.constraints["model/parameters <= 1000"] == metrics["model/parameters"] - 1000
        assert trial.constraints["val/loss < 100"] < 0
        assert trial.user_attrs["feasible"] is (metrics["model/parameters"] <= 1000)
    assert trials[0].user_attrs["feasible"] is False and trials[1].user_attrs["feasible"] is True
    best = warm["summary"]["best"]
    feasible = [t for t in trials if t.user_attrs["feasible"]]
    assert best["number"] == max(feasible, key=lambda t: t.value).number and best["feasible"]
    assert trials[0].value > best["value"]  # the better trial is infeasible: it was passed over
    assert warm["summary"]["constraints"] == {
        "feasible": len(feasible),
        "infeasible": 3 - len(feasible),
    }
    best_yaml = (cwd / "sweep" / "best.yaml").read_text()
    assert f"lr: {best['params']['optimizer.lr']}" in best_yaml


BAD = {
    "unknown enqueue key": (
        ["hydra.sweeper.enqueue=[{model.dropout:0.1}]"],
        "hydra.sweeper.enqueue[0]: model.dropout is not a parameter of the search space; its "
        "parameters: model.hidden_sizes (one of [8], [64,64]), optimizer.lr (0.01 to 0.1)",
    ),
    "value out of range": (
        ["hydra.sweeper.enqueue=[{optimizer.lr:5}]"],
        "hydra.sweeper.enqueue[0]: optimizer.lr=5 is outside the search space's optimizer.lr",
    ),
    "malformed constraint": (
        ['hydra.sweeper.constraints=["model/parameters =< 5"]'],
        "hydra.sweeper.constraints[0]: cannot read 'model/parameters =< 5'; write METRIC OP BOUND",
    ),
    "unknown metric": (
        ['hydra.sweeper.constraints=["val/f1 <= 5"]'],
        "a finished run writes no val/f1; its metrics are val/loss, val/acc, test/loss",
    ),
    "unsupported sampler": (
        ['hydra.sweeper.constraints=["val/loss < 5"]', "hydra/sweeper/sampler=random"],
        "the sampler optuna.samplers.RandomSampler does not use constraints; choose "
        "hydra/sweeper/sampler=tpe, gp or nsgaii",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_stops_before_any_trial(
    case: str, trainrig_cli: CliRunner, tmp_path: Path
) -> None:
    extra, message = BAD[case]
    result = trainrig_cli(*SWEEP, *extra, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]  # one line
    assert message in result.stderr
    assert (
        not (tmp_path / "sweep" / "study.db").exists() and not (tmp_path / "sweep" / "0").exists()
    )


SPACE = search_space({}, ["model=cnn,mlp", "model.hidden_sizes=choice('[8]','[64,64]')", LR])


def test_a_previous_sweeps_outputs_are_read_as_configurations(tmp_path: Path) -> None:
    params = {"model": "mlp", "model.hidden_sizes": "[64,64]", "optimizer.lr": 0.03}
    (tmp_path / "best.yaml").write_text(best_experiment(params, 0.9, 7))  # override /model: mlp
    results = {"name": "optuna", "best_params": params, "best_value": 0.9}
    (tmp_path / "results.yaml").write_text(OmegaConf.to_yaml(results))
    read = enqueued_configs(["best.yaml", "results.yaml"], SPACE, tmp_path, n_trials=5)
    assert read == [params, params]
    with pytest.raises(ConfigError, match=r"3 configurations, more than hydra.sweeper.n_trials=2"):
        enqueued_configs(["best.yaml", "results.yaml", {"model": "cnn"}], SPACE, tmp_path, 2)


@pytest.mark.parametrize(
    ("text", "inside", "bound_is_feasible"),
    [("x <= 2", 1.0, True), ("x < 2", 1.0, False), ("x >= 2", 3.0, True), ("x > 2", 3.0, False)],
)
def test_each_operator_gives_optunas_violation(
    text: str, inside: float, bound_is_feasible: bool
) -> None:
    (constraint,) = parse_constraints(text)
    assert constraint.violation(inside) == pytest.approx(-1.0)  # 1 inside: -1
    assert constraint.violation(4.0 - inside) == pytest.approx(1.0)  # 1 outside: +1
    assert (constraint.violation(2.0) <= 0) is bound_is_feasible  # < and > are strict


def test_a_run_without_the_metric_is_refused_with_what_it_writes(tmp_path: Path) -> None:
    (tmp_path / "metrics.json").write_text(json.dumps({"val/loss": 0.4, "val/mine": 3.0}))
    job = JobReturn(
        hydra_cfg=OmegaConf.create({"hydra": {"runtime": {"output_dir": str(tmp_path)}}})
    )
    study = optuna.create_study()
    trial = study.ask()
    record_constraints(trial, parse_constraints(["val/loss < 0.5"]), job)
    assert trial.constraints == {"val/loss < 0.5": pytest.approx(-0.1)}
    with pytest.raises(
        ConfigError, match=r"the run writes no val/f1; its metrics.json holds val/loss, val/mine"
    ):
        record_constraints(study.ask(), parse_constraints(["val/f1 > 0"]), job)


def test_constraints_are_refused_in_another_hydra_app() -> None:
    with pytest.raises(ConfigError, match="work in trainrig's own commands only"):
        check_constraints(parse_constraints("y <= 1"), False, None, OmegaConf.create())


def test_when_no_trial_is_feasible_the_best_is_reported_as_infeasible() -> None:
    study = optuna.create_study(direction="maximize")
    for value in (0.2, 0.7):
        trial = study.ask({"x": optuna.distributions.FloatDistribution(0, 1)})
        trial.set_constraint("model/parameters <= 10", 5.0)
        study.tell(trial, value)
    result = summary(study)
    assert result["best"]["value"] == 0.7 and result["best"]["feasible"] is False
    assert result["constraints"] == {"feasible": 0, "infeasible": 2}


def test_a_resumed_study_keeps_the_constraints_its_trials_were_judged_by() -> None:
    study = optuna.create_study()
    trial = study.ask({"x": optuna.distributions.FloatDistribution(0, 1)})
    trial.set_constraint("val/loss < 0.5", -0.1)
    study.tell(trial, 0.4)
    check_study_constraints(study, parse_constraints("val/loss < 0.5"))  # the same: fine
    with pytest.raises(ConfigError, match=r"judged by \['val/loss < 0.5'\], not \[\]; keep"):
        check_study_constraints(study, [])
