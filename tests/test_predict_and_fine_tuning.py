"""`trainrig predict`, fine-tuning with `init_from`, and `trainrig resume RUN trainer.max_epochs=N`,
all on one short digits MLP run trained once for the module."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from trainrig.rundir.checkpoints import load_config_from_checkpoint, load_fitting_weights
from trainrig.training.build import build_data, build_module

from .conftest import CliRunner, run_trainrig
from .data_files import write_csv

QUICK = ["trainer=smoke", "model=mlp", "trainer.limit_val_batches=1.0"]
FULL = [*QUICK, "trainer.limit_train_batches=1.0", "trainer.limit_test_batches=1.0"]


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A digits MLP trained 3 full epochs (about 90% validation accuracy, a few seconds)."""
    cwd = tmp_path_factory.mktemp("base")
    result = run_trainrig("train", *FULL, "trainer.max_epochs=3", "hydra.run.dir=run", cwd=cwd)
    assert result.returncode == 0, result.stderr
    return cwd / "run"


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def _val_acc(checkpoint: Path) -> float:
    return float(
        torch.load(checkpoint, weights_only=True)["trainrig_validation_metrics"]["val/acc"]
    )


def test_predict_writes_the_checkpoints_own_test_predictions(
    base: Path, trainrig_cli: CliRunner, tmp_path: Path
) -> None:
    best = base / "checkpoints" / "best.ckpt"
    out = tmp_path / "p.csv"
    result = trainrig_cli("predict", f"ckpt_path={best}", "trainer=smoke", f"output={out}")
    assert result.returncode == 0, result.stderr
    rows = _rows(out)
    # independently: the checkpoint's model on its test split, rescaled as its data says
    trained = load_config_from_checkpoint(best)
    data = build_data(trained)
    module = build_module(trained, data).eval()
    load_fitting_weights(module, best)
    x, y = data.splits["test"]
    with torch.no_grad():
        expected = module(x.float() * data.rescale).argmax(dim=1)
    assert [int(r["prediction"]) for r in rows] == expected.tolist()
    assert [int(r["target"]) for r in rows] == y.tolist()
    sums = [sum(float(r[f"prob_{c}"]) for c in range(10)) for r in rows]
    assert np.allclose(sums, 1.0, atol=1e-5)
    accuracy = float((expected == y).float().mean())
    assert f"predict: {len(y)} rows (test split) written to {out}; accuracy {accuracy:.4f}" in (
        result.stdout
    )


def test_predict_reads_an_image_folder_and_refuses_other_shapes(
    base: Path, trainrig_cli: CliRunner, tmp_path: Path
) -> None:
    best = base / "checkpoints" / "best.ckpt"
    fits, too_big = tmp_path / "fits", tmp_path / "big"
    for folder, size in ((fits, 8), (too_big, 16)):
        folder.mkdir()
        for i in range(3):
            pixels = np.full((size, size), 5 * i, dtype=np.uint8)
            Image.fromarray(pixels).save(folder / f"{i}.png")
    out = tmp_path / "images.csv"
    ok = trainrig_cli("predict", f"ckpt_path={best}", f"input={fits}", f"output={out}")
    assert ok.returncode == 0, ok.stderr
    assert [r["id"] for r in _rows(out)] == ["0.png", "1.png", "2.png"]
    big = trainrig_cli("predict", f"ckpt_path={best}", f"input={too_big}")
    assert big.returncode == 2
    assert "is 16x16 pixels (height x width), but the checkpoint's model takes 8x8" in big.stderr
    assert len(big.stderr.strip().splitlines()) == 1
    table = tmp_path / "rows.csv"
    write_csv(table, 4)
    rows = trainrig_cli("predict", f"ckpt_path={best}", f"input={table}")
    assert rows.returncode == 2
    assert "is a CSV of feature rows, but the checkpoint's model was trained on" in rows.stderr


def test_fine_tuning_starts_at_the_checkpoints_accuracy(
    base: Path, trainrig_cli: CliRunner, tmp_path: Path
) -> None:
    best = base / "checkpoints" / "best.ckpt"
    assert _val_acc(best) > 0.8  # a trained model, so starting at its accuracy means something
    result = trainrig_cli(
        "train", *QUICK, "trainer.max_epochs=1", "optimizer.lr=1e-6", f"init_from={best}",
        "hydra.run.dir=tuned", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert f"init_from: loaded 14 of 14 tensors from {best}" in result.stdout
    first = next(r for r in _rows(tmp_path / "tuned" / "csv" / "metrics.csv") if r["val/acc"])
    assert abs(float(first["val/acc"]) - _val_acc(best)) <= 0.01


def _csv_overrides(tmp_path: Path, best: Path) -> list[str]:
    table = tmp_path / "iris.csv"
    write_csv(table, 60)
    other = [*QUICK, "data=csv", f"data.path={table}", "data.label_column=species"]
    return [*other, "augmentation=none", f"init_from.path={best}"]


@pytest.fixture(scope="module")
def csv_tuned(base: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A model for a 2-feature CSV fine-tuned from the digits MLP with its layer model.5 frozen:
    its run directory and what the run printed."""
    cwd = tmp_path_factory.mktemp("csv_tuned")
    other = _csv_overrides(cwd, base / "checkpoints" / "best.ckpt")
    tuned = run_trainrig("train", *other, "init_from.freeze=[model.5]", "hydra.run.dir=t", cwd=cwd)
    assert tuned.returncode == 0, tuned.stderr
    return cwd / "t", tuned.stdout


def test_init_from_reports_what_does_not_fit_and_strict_refuses_it(
    base: Path, csv_tuned: tuple[Path, str], trainrig_cli: CliRunner, tmp_path: Path
) -> None:
    best = base / "checkpoints" / "best.ckpt"
    other = _csv_overrides(tmp_path, best)
    strict = trainrig_cli("train", *other, "init_from.strict=true", cwd=tmp_path)
    assert strict.returncode == 2
    assert "init_from.strict: the weights in" in strict.stderr
    assert "model.1.weight (checkpoint (256, 64), model (256, 2))" in strict.stderr
    unknown = trainrig_cli("train", *other, "init_from.freeze=[model.55]", cwd=tmp_path)
    assert unknown.returncode == 2
    assert "'model.55' names no parameter or layer of the model; did you mean model.5" in (
        unknown.stderr
    )
    tuned, printed = csv_tuned
    assert "init_from: loaded 11 of 14 tensors" in printed
    assert "not loaded, shapes differ: model.1.weight (checkpoint (256, 64), model (256, 2))" in (
        printed
    )
    after = torch.load(tuned / "checkpoints" / "last.ckpt", weights_only=True)
    before = torch.load(best, weights_only=True)
    assert torch.equal(
        after["state_dict"]["model.5.weight"], before["state_dict"]["model.5.weight"]
    )
    moved = after["state_dict"]["model.6.weight"] != before["state_dict"]["model.6.weight"]
    assert moved.any()  # the layer after the frozen one trained


def test_predict_reads_new_csv_rows_by_column_name(
    csv_tuned: tuple[Path, str], trainrig_cli: CliRunner, tmp_path: Path
) -> None:
    """New rows of a CSV-trained model, without the label column and with the features in
    another order: the checkpoint's model on those features, its normalization included."""
    best = csv_tuned[0] / "checkpoints" / "best.ckpt"
    rows = [(0.0, 0.0), (9.0, 1.0), (3.0, 2.0)]
    new = tmp_path / "new.csv"
    new.write_text("petal,sepal\n" + "".join(f"{p},{s}\n" for s, p in rows))
    out = tmp_path / "p.csv"
    result = trainrig_cli("predict", f"ckpt_path={best}", f"input={new}", f"output={out}")
    assert result.returncode == 0, result.stderr
    written = _rows(out)
    trained = load_config_from_checkpoint(best)
    data = build_data(trained)
    module = build_module(trained, data).eval()
    load_fitting_weights(module, best)
    with torch.no_grad():
        expected = module(torch.tensor(rows)).softmax(dim=1)
    names = list(data.output_names)
    assert [r["id"] for r in written] == ["0", "1", "2"]
    assert [r["prediction"] for r in written] == [names[i] for i in expected.argmax(dim=1)]
    got = torch.tensor([[float(r[f"prob_{n}"]) for n in names] for r in written])
    assert torch.allclose(got, expected, atol=1e-5)
    assert "predict: 3 rows" in result.stdout
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("sepal,width\n1,2\n")
    refused = trainrig_cli("predict", f"ckpt_path={best}", f"input={wrong}", cwd=tmp_path)
    assert refused.returncode == 2 and len(refused.stderr.strip().splitlines()) == 1
    assert "petal" in refused.stderr and "Traceback" not in refused.stderr


def test_init_from_a_missing_or_foreign_file_is_refused(
    trainrig_cli: CliRunner, tmp_path: Path
) -> None:
    missing = trainrig_cli("train", *QUICK, f"init_from={tmp_path / 'no.ckpt'}", cwd=tmp_path)
    assert missing.returncode == 2
    assert f"init_from.path: no checkpoint file at {tmp_path / 'no.ckpt'}" in missing.stderr
    foreign = tmp_path / "foreign.ckpt"
    torch.save({"state_dict": {"w": torch.zeros(2)}}, foreign)
    refused = trainrig_cli("train", *QUICK, f"init_from={foreign}", cwd=tmp_path)
    assert refused.returncode == 2
    assert f"init_from.path: {foreign} was not written by `trainrig train`" in refused.stderr


def test_resume_with_more_epochs_lengthens_a_finished_run(
    base: Path, trainrig_cli: CliRunner, tmp_path: Path
) -> None:
    run = tmp_path / "run"
    shutil.copytree(base, run)
    other = trainrig_cli("resume", str(run), "trainer.max_epochs=5", "optimizer.lr=0.5")
    assert other.returncode == 2
    assert "holds a run of another config (differing: optimizer.lr)" in other.stderr
    longer = trainrig_cli("resume", str(run), "trainer.max_epochs=5")
    assert longer.returncode == 0, longer.stderr
    last = torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)
    assert last["epoch"] == 4
    epochs = {int(r["epoch"]) for r in _rows(run / "csv" / "metrics.csv") if r["val/acc"]}
    assert {3, 4} <= epochs
    assert "ran all trainer.max_epochs=5 epochs" in longer.stdout
