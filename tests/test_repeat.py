"""`repeat.seeds` and `repeat.folds`: every repetition is the run it would be alone, metrics.json
holds each metric's mean and sample sd, folds split train+val, and `trainrig report` groups runs
that differ only by seed."""

from __future__ import annotations

import json
import shutil
import statistics
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
import yaml
from omegaconf import DictConfig

from trainrig.config.errors import ConfigError
from trainrig.config.validate import validate
from trainrig.data.digits import build_digits
from trainrig.data.folds import use_fold
from trainrig.report.discover import discover
from trainrig.report.table import shown
from trainrig.report.write import write_report
from trainrig.training.repeats import train_repeated

from .conftest import run_trainrig

Compose = Callable[..., DictConfig]
FAST = ("trainer=smoke", "trainer.max_epochs=1", "trainer.deterministic=true")
SEEDS = (1, 2, 3)


def _metrics(run_dir: Path) -> dict[str, float]:
    return json.loads((run_dir / "metrics.json").read_text())  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """Through the CLI: one run with repeat.seeds=[1,2,3], and the same seeds as separate runs of
    a multirun, in reverse order (so no repetition follows the same ones in both)."""
    root = tmp_path_factory.mktemp("seeds")
    repeated = run_trainrig("train", *FAST, "repeat.seeds=[1,2,3]", "hydra.run.dir=rep", cwd=root)
    assert repeated.returncode == 0, repeated.stderr
    separate = run_trainrig("train", "-m", *FAST, "seed=3,2,1", "hydra.sweep.dir=sep", cwd=root)
    assert separate.returncode == 0, separate.stderr
    return root / "rep", root / "sep", repeated.stdout


def _separate_run(multirun: Path, seed: int) -> Path:
    for job in multirun.iterdir():
        if (job / "config.yaml").is_file() and yaml.safe_load((job / "config.yaml").read_text())[
            "seed"
        ] == seed:
            return job
    raise AssertionError(f"no run with seed {seed} in {multirun}")


def test_each_seed_repetition_equals_a_separate_run_with_that_seed(
    seeded: tuple[Path, Path, str],
) -> None:
    repeated, separate, _ = seeded
    for seed in SEEDS:
        repetition = repeated / "repeats" / f"seed_{seed}"
        assert (repetition / "checkpoints" / "best.ckpt").is_file()
        assert _metrics(repetition) == _metrics(_separate_run(separate, seed))
    losses = {_metrics(repeated / "repeats" / f"seed_{s}")["val/loss"] for s in SEEDS}
    assert len(losses) == len(SEEDS)  # the seeds do differ, so a mix-up would show


def test_metrics_json_holds_every_metrics_mean_and_sample_sd(
    seeded: tuple[Path, Path, str],
) -> None:
    repeated, _, printed = seeded
    per_seed = [_metrics(repeated / "repeats" / f"seed_{s}") for s in SEEDS]
    summary = _metrics(repeated)
    assert {"val/acc", "val/acc_mean", "val/acc_std", "test/acc_std"} <= set(summary)
    for name in per_seed[0]:
        values = [metrics[name] for metrics in per_seed]
        assert summary[name] == summary[f"{name}_mean"] == pytest.approx(statistics.mean(values))
        assert summary[f"{name}_std"] == pytest.approx(statistics.stdev(values))
    losses = [metrics["val/loss"] for metrics in per_seed]
    assert summary["val/loss_std"] != pytest.approx(statistics.pstdev(losses))  # n - 1, not n
    assert "mean ± sd (sample)" in printed
    assert f"{summary['val/loss']:.4f} ± {summary['val/loss_std']:.4f}" in printed


def test_report_groups_runs_that_differ_only_by_seed(
    seeded: tuple[Path, Path, str], tmp_path: Path
) -> None:
    repeated, separate, _ = seeded
    (markdown, _) = write_report(discover([separate, repeated]), [separate], tmp_path)
    rows = [line for line in markdown.read_text().splitlines() if line.startswith("| ")][1:]
    assert len(rows) == 2  # the three separate runs are one row, the repeated run another
    losses = [_metrics(repeated / "repeats" / f"seed_{s}")["val/loss"] for s in SEEDS]
    cell = f"{shown(statistics.mean(losses))} ± {shown(statistics.stdev(losses))}"
    group = next(row for row in rows if "sep/0, sep/1, sep/2" in row)
    assert "| 3, 2, 1 |" in group  # seed (and data.split_seed, which follows it)
    assert all(cell in row for row in rows)


def test_resume_skips_finished_repetitions_and_resumes_the_unfinished_one(
    seeded: tuple[Path, Path, str],
    compose_train: Compose,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    run_dir = shutil.copytree(seeded[0], tmp_path / "rep")
    (run_dir / "metrics.json").unlink()
    (run_dir / "repeats" / "seed_3" / "metrics.json").unlink()  # stopped before its test
    kept = {p: p.stat().st_mtime_ns for p in run_dir.glob("repeats/*/checkpoints/*.ckpt")}
    cfg = compose_train(*FAST, "repeat.seeds=[1,2,3]", "resume=auto")
    validate(cfg)
    metrics = train_repeated(cfg, run_dir)
    assert capsys.readouterr().out.count("finished already") == 2  # seed_1 and seed_2
    assert {p: p.stat().st_mtime_ns for p in kept} == kept  # nothing trained again
    assert _metrics(run_dir / "repeats" / "seed_3") == _metrics(seeded[0] / "repeats" / "seed_3")
    assert metrics == _metrics(seeded[0])


def test_folds_run_each_fold_of_train_and_val(compose_train: Compose, tmp_path: Path) -> None:
    cfg = compose_train(*FAST, "repeat.folds=3")
    validate(cfg)
    metrics = train_repeated(cfg, tmp_path)
    folds = [tmp_path / "repeats" / f"fold_{k}" for k in range(3)]
    for k, fold in enumerate(folds):
        assert yaml.safe_load((fold / "config.yaml").read_text())["repeat"]["fold"] == k
    accuracies = [_metrics(fold)["val/acc"] for fold in folds]
    assert metrics["val/acc"] == pytest.approx(statistics.mean(accuracies))
    assert _metrics(tmp_path) == metrics


def test_fold_val_splits_are_disjoint_stratified_and_cover_train_and_val() -> None:
    seen: list[torch.Tensor] = []
    for fold in range(3):
        data = build_digits()
        (_, y_train), (_, y_val) = data.splits["train"], data.splits["val"]
        total = len(y_train) + len(y_val)
        data.splits["train"] = (torch.arange(len(y_train)), y_train)  # samples by their number
        data.splits["val"] = (torch.arange(len(y_train), total), y_val)
        use_fold(data, 3, fold, seed=42)
        train_ids, val_ids = data.splits["train"][0], data.splits["val"][0]
        assert len(train_ids) + len(val_ids) == total
        assert not set(train_ids.tolist()) & set(val_ids.tolist())
        everything = torch.cat([y_train, y_val]).bincount()
        assert (data.splits["val"][1].bincount() - everything / 3).abs().max() <= 1  # stratified
        seen.append(val_ids)
    assert sorted(torch.cat(seen).tolist()) == list(range(total))  # each sample in one val split


def test_more_folds_than_a_class_has_samples_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"^repeat\.folds=500: class \d has only \d+ samples"):
        use_fold(build_digits(), 500, 0, seed=0)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["repeat.seeds=[1,2]", "repeat.folds=3"], "give repeat.seeds or repeat.folds, not both"),
        (["repeat.seeds=[1]"], "a spread needs at least two seeds"),
        (["repeat.seeds=[1,1]"], "names a seed twice"),
        (["repeat.folds=1"], "repeat.folds: must be >= 2, got 1"),
        (["repeat.folds=3", "repeat.fold=3"], "repeat.fold=3 picks one of repeat.folds folds"),
    ],
)
def test_a_bad_repeat_is_refused_before_training(
    compose_train: Compose, overrides: list[str], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        validate(compose_train(*overrides))


def test_lr_find_refuses_repeat(compose_train: Compose) -> None:
    with pytest.raises(ConfigError, match="lr-find` runs its range test once"):
        validate(compose_train("repeat.seeds=[1,2]", config_name="lr_find"), "lr_find")


@pytest.mark.parametrize(
    ("overrides", "environment"),
    [(["trainer.devices=2"], {}), ([], {"WORLD_SIZE": "2"})],
    ids=["two-devices", "under-torchrun"],
)
def test_repeat_refuses_several_processes_before_writing_anything(
    compose_train: Compose,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    overrides: list[str],
    environment: dict[str, str],
) -> None:
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    cfg = compose_train(*FAST, "repeat.seeds=[1,2]", "trainer.accelerator=cpu", *overrides)
    validate(cfg)
    with pytest.raises(ConfigError, match="repetitions run one after another in one process"):
        train_repeated(cfg, tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_a_sweep_trial_of_a_repeated_config_is_worth_the_mean(tmp_path: Path) -> None:
    """In an Optuna sweep, a trial that repeats its config over seeds returns the mean of the
    repetitions' metric, so the search compares configs, not seeds."""
    import optuna

    result = run_trainrig(
        "train", "-m", *FAST, "hydra/sweeper=optuna", "hydra/sweeper/pruner=none",
        "hydra.sweeper.n_trials=1", "optimized_metric=val/acc", "optimizer.lr=choice(0.003)",
        "repeat.seeds=[1,2]", "hydra.sweep.dir=sweep", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    study = optuna.load_study(study_name="trainrig", storage=f"sqlite:///{tmp_path}/sweep/study.db")
    (trial,) = study.trials
    run = tmp_path / "sweep" / str(trial.number)
    each = [_metrics(run / "repeats" / f"seed_{seed}")["val/acc"] for seed in (1, 2)]
    assert trial.value == pytest.approx(statistics.mean(each), abs=1e-9)
    assert trial.value == pytest.approx(_metrics(run)["val/acc_mean"], abs=1e-9)
