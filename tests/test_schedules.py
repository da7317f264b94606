"""Every learning-rate schedule follows its formula at chosen steps or epochs."""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
import yaml

from trainrig.config.errors import ConfigError
from trainrig.config.signature import builder_for, option_of
from trainrig.training import schedules

LR = 0.1


def _lrs(builder: Callable[..., dict[str, Any]], steps: int, **options: Any) -> list[float]:
    """The lr before each of `steps` scheduler steps (epochs or optimizer steps)."""
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=LR)
    config = builder(optimizer, steps, **options)
    seen = []
    for _ in range(steps):
        seen.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        config["scheduler"].step()
    return seen


def cosine(step: int, total: int, eta_min: float = 0.0, top: float = LR) -> float:
    return eta_min + (top - eta_min) * (1 + math.cos(math.pi * step / total)) / 2


# (builder, options, interval, {step: expected lr})
CASES = [
    (
        schedules.build_step,
        {"step_size": 2, "gamma": 0.5},
        "epoch",
        {0: LR, 1: LR, 2: LR / 2, 4: LR / 4},
    ),
    (
        schedules.build_multistep,
        {"milestones": [2, 4], "gamma": 0.1},
        "epoch",
        {1: LR, 2: LR / 10, 4: LR / 100},
    ),
    (schedules.build_exponential, {"gamma": 0.9}, "epoch", {0: LR, 1: LR * 0.9, 5: LR * 0.9**5}),
    (
        schedules.build_cosine,
        {"eta_min": 1e-3},
        "step",
        {0: LR, 25: cosine(25, 100, 1e-3), 50: cosine(50, 100, 1e-3)},
    ),
    (
        schedules.build_warmup_cosine,
        {"warmup_fraction": 0.1, "start_factor": 0.01, "eta_min": 0.0},
        "step",
        {0: LR * 0.01, 5: LR * (0.01 + 0.99 * 0.5), 10: LR, 55: cosine(45, 90)},
    ),
    (
        schedules.build_onecycle,
        {"pct_start": 0.3, "div_factor": 25.0, "final_div_factor": 1e4},
        "step",
        {0: LR / 25, 29: LR},
    ),
]


@pytest.mark.parametrize(
    ("builder", "options", "interval", "expected"), CASES, ids=[c[0].__name__ for c in CASES]
)
def test_schedule_matches_its_formula(
    builder: Callable[..., dict[str, Any]],
    options: dict[str, Any],
    interval: str,
    expected: dict[int, float],
) -> None:
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=LR)
    config = builder(optimizer, 100, **options)
    assert config["interval"] == interval
    assert config["name"] == "train/lr"
    lrs = _lrs(builder, 100, **options)
    for step, lr in expected.items():
        assert lrs[step] == pytest.approx(lr, rel=1e-6), step


def test_cosine_and_warmup_cosine_end_at_eta_min() -> None:
    for builder in (schedules.build_cosine, schedules.build_warmup_cosine):
        optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=LR)
        scheduler = builder(optimizer, 50, eta_min=1e-4)["scheduler"]
        for _ in range(50):
            optimizer.step()
            scheduler.step()
        assert optimizer.param_groups[0]["lr"] == pytest.approx(1e-4, rel=1e-6)


def test_warmup_is_linear() -> None:
    lrs = _lrs(schedules.build_warmup_cosine, 100, warmup_fraction=0.2, start_factor=0.01)
    steps = torch.tensor(lrs[:21], dtype=torch.float64)
    expected = torch.linspace(LR * 0.01, LR, 21, dtype=torch.float64)
    assert torch.allclose(steps, expected, atol=1e-9)


def test_onecycle_peaks_at_pct_start_and_ends_far_below() -> None:
    lrs = _lrs(schedules.build_onecycle, 100, pct_start=0.3)
    assert max(lrs) == pytest.approx(LR)
    assert lrs.index(max(lrs)) == 29
    assert lrs[-1] < LR / 25 / 1e3


def test_plateau_reduces_after_patience_epochs_without_improvement() -> None:
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=LR)
    config = schedules.build_plateau(
        optimizer, 100, monitor="val/loss", mode="min", factor=0.5, patience=2
    )
    assert (config["monitor"], config["interval"]) == ("val/loss", "epoch")
    lrs = []
    for val_loss in [1.0, 0.9, 0.9, 0.9, 0.9, 0.9]:
        config["scheduler"].step(val_loss)
        lrs.append(optimizer.param_groups[0]["lr"])
    assert lrs == pytest.approx([LR, LR, LR, LR, LR / 2, LR / 2])


# The defaults are the options' documented schema (`trainrig list`, docs): a change must be
# deliberate and show up here.
DEFAULTS = {
    schedules.build_step: {"step_size": 10, "gamma": 0.5},
    schedules.build_multistep: {"milestones": (10, 20), "gamma": 0.1},
    schedules.build_exponential: {"gamma": 0.95},
    schedules.build_cosine: {"eta_min": 0.0},
    schedules.build_warmup_cosine: {"warmup_fraction": 0.05, "start_factor": 0.01, "eta_min": 0.0},
    schedules.build_onecycle: {"pct_start": 0.3, "div_factor": 25.0, "final_div_factor": 1e4},
    schedules.build_plateau: {"factor": 0.1, "patience": 5, "min_lr": 0.0},
}


@pytest.mark.parametrize("builder", DEFAULTS, ids=[b.__name__ for b in DEFAULTS])
def test_schedule_defaults(builder: Callable[..., dict[str, Any]]) -> None:
    parameters = inspect.signature(builder).parameters.values()
    defaults = {p.name: p.default for p in parameters if p.default is not p.empty}
    assert defaults == DEFAULTS[builder]


def test_milestones_must_be_increasing_epochs() -> None:
    schedules.milestones_increase([10, 20])
    for bad in ([], [20, 10], [10, 10]):
        with pytest.raises(ConfigError, match=r"^scheduler.milestones must list increasing epochs"):
            schedules.milestones_increase(bad)


def test_no_schedule_keeps_the_lr_and_logs_it_each_epoch() -> None:
    lrs = _lrs(schedules.build_constant, 5)
    assert lrs == [LR] * 5
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=LR)
    assert schedules.build_constant(optimizer, 5)["interval"] == "epoch"


def test_a_one_step_cosine_run_decays_to_eta_min_in_its_step() -> None:
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=LR)
    scheduler = schedules.build_cosine(optimizer, 1, eta_min=1e-4)["scheduler"]
    optimizer.step()
    scheduler.step()
    assert optimizer.param_groups[0]["lr"] == pytest.approx(1e-4, rel=1e-6)


def test_plateau_watches_its_metric_strictly_down_to_min_lr() -> None:
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=LR)
    config = schedules.build_plateau(
        optimizer, 10, monitor="val/acc", mode="max", factor=0.5, patience=0, min_lr=0.03
    )
    assert (config["strict"], config["name"]) == (True, "train/lr")
    for val_acc in [0.5, 0.5, 0.5, 0.5]:
        optimizer.step()
        config["scheduler"].step(val_acc)
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.03)


def test_factors_and_fractions_are_checked_when_a_schedule_is_built() -> None:
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=LR)
    with pytest.raises(ConfigError, match=r"^scheduler\.gamma: must be > 0, got 0"):
        schedules.build_step(optimizer, 10, gamma=0)
    with pytest.raises(ConfigError, match=r"^scheduler\.warmup_fraction: must be < 1, got 1"):
        schedules.build_warmup_cosine(optimizer, 10, warmup_fraction=1)


@pytest.mark.parametrize("total_steps", [0, 1])
def test_a_one_cycle_spans_the_runs_steps_and_no_more(total_steps: int) -> None:
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=LR)
    scheduler = schedules.build_onecycle(optimizer, total_steps)["scheduler"]
    optimizer.step()
    scheduler.step()  # a run of one step (or of none: the schedule is never shorter)
    with pytest.raises(ValueError, match="total steps is 1"):
        scheduler.step()


# every bound of the schedules' options, refused with the message the CLI prints for the config
REFUSED = [
    pytest.param(
        schedules.build_step, {"gamma": 1.5}, r"scheduler\.gamma: must be <= 1, got 1\.5", id="step"
    ),
    pytest.param(
        schedules.build_multistep, {"gamma": 0}, r"scheduler\.gamma: must be > 0, got 0", id="multi"
    ),
    pytest.param(
        schedules.build_exponential,
        {"gamma": 2},
        r"scheduler\.gamma: must be <= 1, got 2",
        id="exp",
    ),
    pytest.param(
        schedules.build_cosine,
        {"eta_min": "low"},
        r"scheduler\.eta_min: expected float, got 'low'",
        id="cosine",
    ),
    pytest.param(
        schedules.build_warmup_cosine,
        {"warmup_fraction": 0},
        r"scheduler\.warmup_fraction: must be > 0, got 0",
        id="warmup-fraction",
    ),
    pytest.param(
        schedules.build_warmup_cosine,
        {"start_factor": 1.5},
        r"scheduler\.start_factor: must be <= 1, got 1\.5",
        id="warmup-factor",
    ),
    pytest.param(
        schedules.build_onecycle,
        {"pct_start": 0},
        r"scheduler\.pct_start: must be > 0, got 0",
        id="onecycle",
    ),
    pytest.param(
        schedules.build_plateau,
        {"monitor": "val/loss", "mode": "min", "factor": 1},
        r"scheduler\.factor: must be < 1, got 1",
        id="plateau",
    ),
]


@pytest.mark.parametrize(("builder", "arguments", "message"), REFUSED)
def test_a_python_call_out_of_bounds_is_refused_naming_the_scheduler_group(
    builder: Callable[..., dict[str, Any]], arguments: dict[str, Any], message: str
) -> None:
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=LR)
    with pytest.raises(ConfigError, match=f"^{message}"):
        builder(optimizer, 10, **arguments)


def test_a_factor_of_one_is_allowed() -> None:
    """Factors are in (0, 1]: 1 keeps the lr (fractions are in (0, 1), above)."""
    lrs = _lrs(schedules.build_step, 4, step_size=1, gamma=1)
    assert lrs == [LR] * 4
    lrs = _lrs(schedules.build_warmup_cosine, 100, warmup_fraction=0.01, start_factor=1)
    assert lrs[:2] == pytest.approx([LR, LR])


def test_a_two_step_warmup_cosine_run_warms_up_in_one_step_and_decays_in_the_other() -> None:
    """The warm-up and the decay each take at least one step, however short the run."""
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=LR)
    scheduler = schedules.build_warmup_cosine(optimizer, 2, start_factor=0.01, eta_min=1e-4)
    seen = []
    for _ in range(2):
        seen.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler["scheduler"].step()
    seen.append(optimizer.param_groups[0]["lr"])
    assert seen == pytest.approx([LR * 0.01, LR, 1e-4], rel=1e-6)


SCHEDULER_FILES = sorted(
    (Path(__file__).resolve().parents[1] / "conf" / "scheduler").glob("*.yaml")
)


@pytest.mark.parametrize("path", SCHEDULER_FILES, ids=lambda p: p.stem)
def test_each_scheduler_file_names_a_partial_scheduler_option(path: Path) -> None:
    """The runner adds the optimizer and the run's steps: every schedule is `_partial_`, and its
    builder is recorded as an option of the group whose folder holds it (which its messages
    name when Python calls it)."""
    node = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if "_target_" not in node:  # none.yaml: no schedule (the runner's build_constant)
        assert path.stem == "none"
        return
    spec = option_of(builder_for(node["_target_"]))
    assert spec is not None, node["_target_"]
    assert (spec.group, spec.partial, node["_partial_"]) == ("scheduler", True, True)
