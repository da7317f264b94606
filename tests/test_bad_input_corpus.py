"""More bad input through the real CLI: data folders, damaged and foreign checkpoints, sweeps,
output folders and override syntax. Each case exits 2 with one `trainrig: error:` line naming the
problem and the way out, prints no traceback and leaves no run behind.

tests/test_bad_input.py holds the first part of the corpus (config keys, values and options).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import torch

from trainrig.training.callbacks.config_in_checkpoint import CONFIG_KEY

from .conftest import CliRunner, run_trainrig
from .data_files import write_multilabel_csv, write_png_tree, write_regression_csv

DISTILL_ON_PNGS = ("data=image_folder", "data.root={files}/pngs", "compression=distill")
SWEEP = ("-m", "hydra/sweeper=optuna", "trainer=smoke", "hydra.sweep.dir=sweep")
NOT_IN_YET = "not in the search space yet; add a parameter with +hydra.sweeper.params.optimizer.lr="
WEIGHTS_MISFIT = "do not fit the model its stored config describes"
PASS_A_REAL_ONE = "pass the checkpoints/best.ckpt (or last.ckpt) that a `trainrig train` run wrote"

# (id, arguments with {files} for the shared folder below, phrases the error line must contain)
CORPUS: list[tuple[str, list[str], list[str]]] = [
    (
        "empty-data-folder",
        ["data=image_folder", "data.root={files}/empty"],
        ["data.root: ", "has no class sub-folders (expected ", "/CLASS/*.png)"],
    ),
    (
        "data-root-is-a-file",
        ["data=image_folder", "data.root={files}/a_file"],
        ["data.root: no folder at ", "set data.root=FOLDER"],
    ),
    (
        "too-few-images-to-split",
        ["data=image_folder", "data.root={files}/few_pngs"],
        ["data: cannot split 12 samples stratified", "change data.val_fraction and"],
    ),
    (
        "missing-csv",
        ["data=csv", "data.path={files}/nowhere.csv"],
        ["data.path: no CSV file at ", "set data.path=FILE.csv"],
    ),
    (
        "continuous-csv-target-as-classes",
        ["data=csv", "data.path={files}/continuous.csv", "data.label_column=y", "model=mlp"],
        [
            "data.label_column: column 'y' of ",
            "holds 214 distinct numbers, a continuous target",
            "use task=regression",
        ],
    ),
    (
        "several-csv-label-columns-as-classes",
        ["data=csv", "data.path={files}/multilabel.csv", "data.label_column=[cat,dog]"],
        ["data.label_column: 2 label columns (cat, dog)", "use task=multilabel"],
    ),
    (
        "truncated-checkpoint",
        ["eval", "ckpt_path={files}/truncated.ckpt"],
        ["ckpt_path: cannot read ", "is the file complete?", PASS_A_REAL_ONE],
    ),
    (
        "damaged-checkpoint",
        ["eval", "ckpt_path={files}/damaged.ckpt"],
        ["cannot read ", "its data is damaged", PASS_A_REAL_ONE],
    ),
    (
        "compress-a-truncated-checkpoint",
        ["compress", "ckpt_path={files}/truncated.ckpt", "compression=prune_global"],
        ["ckpt_path: cannot read ", "is the file complete?"],
    ),
    (
        "checkpoint-of-another-tool",
        ["eval", "ckpt_path={files}/foreign.pt"],
        ["was not written by `trainrig train`", PASS_A_REAL_ONE],
    ),
    (
        "eval-weights-that-do-not-fit",
        ["eval", "ckpt_path={files}/misfit.ckpt"],
        ["ckpt_path: the weights in ", WEIGHTS_MISFIT, PASS_A_REAL_ONE],
    ),
    (
        "compress-weights-that-do-not-fit",
        ["compress", "ckpt_path={files}/misfit.ckpt", "compression=prune_global"],
        ["ckpt_path: the weights in ", WEIGHTS_MISFIT],
    ),
    (
        "teacher-of-other-data",
        [*DISTILL_ON_PNGS, "compression.teacher_ckpt={files}/run/checkpoints/best.ckpt"],
        ["compression.teacher_ckpt: the weights in", "use a checkpoint trained on the same data"],
    ),
    (
        "missing-teacher",
        ["compression=distill", "compression.teacher_ckpt={files}/none.ckpt"],
        ["compression.teacher_ckpt: no checkpoint file at", "train the teacher first"],
    ),
    ("eval-a-folder", ["eval", "ckpt_path={files}"], ["ckpt_path: no checkpoint file at"]),
    (
        "unknown-sampler",
        [*SWEEP, "hydra/sweeper/sampler=bogus"],
        [
            "hydra/sweeper/sampler=bogus: no such option; choose one of cmaes,",
            "tpe",
            "`trainrig train --hydra-help` shows them",  # not `trainrig list`: Hydra's group
        ],
    ),
    (
        "unknown-pruner",
        [*SWEEP, "hydra/sweeper/pruner=bogus"],
        [
            "hydra/sweeper/pruner=bogus: no such option; choose one of hyperband, median, none",
            "`trainrig train --hydra-help` shows them",
        ],
    ),
    (
        "unknown-sampler-key",
        [*SWEEP, "hydra.sweeper.sampler.nope=1"],
        ["hydra.sweeper.sampler.nope: unknown key"],
    ),
    (
        "search-space-syntax",
        [*SWEEP, "hydra.sweeper.params.optimizer.lr=interval(1"],
        ["cannot parse the override 'hydra.sweeper.params.optimizer.lr=interval(1'", "quote a"],
    ),
    (
        "search-space-quoted-but-malformed",
        [*SWEEP, "+hydra.sweeper.params.optimizer.lr='interval(1'"],
        ["search space: cannot parse 'optimizer.lr=interval(1'", "write interval(low, high)"],
    ),
    (
        "search-space-key-without-plus",
        [*SWEEP, "hydra.sweeper.params.optimizer.lr='interval(0.01,0.1)'"],
        ["hydra.sweeper.params.optimizer.lr: " + NOT_IN_YET],
    ),
    ("no-trials", [*SWEEP, "hydra.sweeper.n_trials=0"], ["hydra.sweeper.n_trials: must be >= 1"]),
    (
        "sideways-direction",
        [*SWEEP, "hydra.sweeper.direction=sideways"],
        ["hydra.sweeper.direction: 'sideways' does not fit", "give minimize or maximize"],
    ),
    (
        "storage-without-a-driver",  # an unreachable server: tests/test_redaction.py
        [*SWEEP, "hydra.sweeper.storage=nodb://somewhere/x"],
        ["hydra.sweeper.storage: cannot open nodb://somewhere/x", "check the URL"],
    ),
    (
        "run-dir-under-proc",
        ["trainer=smoke", "hydra.run.dir=/proc/trainrig_forbidden"],
        ["hydra.run.dir: cannot create the output folder /proc/trainrig_forbidden", "you can"],
    ),
    (
        "run-dir-under-a-file",
        ["trainer=smoke", "hydra.run.dir={files}/a_file/run"],
        ["hydra.run.dir: cannot create the output folder", "(Not a directory)"],
    ),
    (
        "sweep-dir-under-proc",
        ["-m", "trainer=smoke", "hydra.sweep.dir=/proc/trainrig_forbidden", "model=cnn,mlp"],
        ["hydra.sweep.dir: cannot create the output folder", "hydra.sweep.dir=outputs/my_run"],
    ),
    (
        "more-folds-than-a-class-has-samples",
        ["trainer=smoke", "repeat.folds=500"],
        ["repeat.folds=500: class 8 has only 148 samples", "set repeat.folds to at most 148"],
    ),
    ("infinite-lr", ["optimizer.lr=inf"], ["optimizer.lr: must be a finite number, got inf"]),
    ("null-epochs", ["trainer.max_epochs=null"], ["trainer.max_epochs: expected int, got None"]),
    (
        "dangling-interpolation",
        ["optimizer.lr=${nope}"],
        ["optimizer.lr: Interpolation key 'nope' not found; fix that ${...} interpolation"],
    ),
    (
        "unclosed-interpolation",
        ["model=${oops"],
        ["cannot parse the override 'model=${oops'", "quote a value"],
    ),
    (
        "hydra-value-of-the-wrong-type",
        ["hydra.job.chdir=maybe"],
        ["hydra.job.chdir=maybe: Value 'maybe' is not a valid bool"],
    ),
    (
        "key-below-a-null-node",
        ["hydra.sweeper.params.optimizer.lr=1"],
        ["hydra.sweeper.params is null, so it has no keys to set; set it whole instead"],
    ),
    (
        "key-below-a-list",
        ["optimizer.betas.nested=0"],
        [
            "optimizer.betas.nested=0: optimizer.betas is a list, so it has no key 'nested'",
            "(optimizer.betas.0=...) or the list whole (optimizer.betas=[...])",
        ],
    ),
    (
        "key-two-below-a-list",
        ["model.channels.x.y=1"],
        ["model.channels is a list, so it has no key 'x'"],
    ),
    (
        "group-set-to-a-number",
        ["augmentation=0"],
        ["Config group override must be a string", "a config group takes an option name"],
    ),
    ("target-not-a-name", ["data._target_=[]"], ["data._target_: expected the dotted name"]),
    ("unknown-logger", ["logger=bogus"], ["logger=bogus: no such option; choose one of csv,"]),
    ("unknown-resume-mode", ["resume=bogus"], ["resume: 'bogus' is not allowed; choose one of"]),
    ("lr-find-out-of-range", ["lr-find", "model.dropout=2"], ["model.dropout: must be < 1"]),
    ("eval-unknown-key", ["eval", "ckpt_path=x.ckpt", "+foo=1"], ["foo: unknown key"]),
    (
        "compress-unknown-option",
        ["compress", "ckpt_path=x.ckpt", "compression=bogus"],
        ["compression=bogus: no such option", "`trainrig list compression` shows them"],
    ),
    ("list-two-groups", ["list", "model", "data"], ["usage: trainrig list [GROUP]"]),
    ("report-out-without-a-folder", ["report", "--out"], ["--out: expected one argument"]),
]
COMMANDS = {"eval", "compress", "lr-find", "list", "report"}


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One smoke-trained checkpoint and the broken files made from it, plus small data folders."""
    root = tmp_path_factory.mktemp("bad_files")
    trained = run_trainrig("train", "trainer=smoke", "hydra.run.dir=run", cwd=root)
    assert trained.returncode == 0, trained.stderr
    best = (root / "run" / "checkpoints" / "best.ckpt").read_bytes()
    (root / "truncated.ckpt").write_bytes(best[: len(best) // 2])
    (root / "damaged.ckpt").write_bytes(b"\xff" * 64 + best[64:])
    torch.save({"weight": torch.zeros(3)}, root / "foreign.pt")
    misfit = torch.load(root / "run" / "checkpoints" / "best.ckpt", weights_only=True)
    misfit[CONFIG_KEY]["model"]["channels"] = [8, 16]  # the weights no longer fit the config
    torch.save(misfit, root / "misfit.ckpt")
    (root / "empty").mkdir()
    (root / "a_file").write_text("not a folder\n")
    write_png_tree(root / "few_pngs", per_class=4)
    write_png_tree(root / "pngs", per_class=20)
    write_regression_csv(root / "continuous.csv", rows=214)
    write_multilabel_csv(root / "multilabel.csv", rows=40)
    return root


def _finished_runs_under(path: Path) -> list[Path]:
    return [p for p in path.rglob("*") if p.name in ("metrics.json", "summary.json")]


def _assert_clean_rejection(result: subprocess.CompletedProcess[str], expected: list[str]) -> None:
    stderr = result.stderr
    assert result.returncode == 2, stderr
    assert "Traceback" not in stderr
    errors = [line for line in stderr.splitlines() if "error: " in line]
    assert len(errors) == 1, stderr
    assert errors[0].startswith("trainrig") and stderr.rstrip().endswith(errors[0]), stderr
    for phrase in expected:
        assert phrase in errors[0], errors[0]


@pytest.mark.parametrize(
    ("args", "expected"),
    [case[1:] for case in CORPUS],
    ids=[case[0] for case in CORPUS],
)
def test_bad_input_is_rejected_cleanly(
    args: list[str], expected: list[str], files: Path, trainrig_cli: CliRunner, tmp_path: Path
) -> None:
    arguments = [arg.replace("{files}", str(files)) for arg in args]
    if arguments[0] not in COMMANDS:
        arguments.insert(0, "train")
    result = trainrig_cli(*arguments, cwd=tmp_path)
    _assert_clean_rejection(result, expected)
    assert _finished_runs_under(tmp_path) == []
    if "-m" not in arguments:
        assert not (tmp_path / "outputs").exists()  # no run directory, not even an empty one
