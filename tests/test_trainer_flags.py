"""Every `pytorch_lightning.Trainer` argument is a `trainer` key, checked against the Trainer's
own signature without importing Lightning; the `debug` group's presets run."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from omegaconf import DictConfig

from trainrig.config.errors import ConfigError
from trainrig.config.signature import defaults
from trainrig.config.validate import validate
from trainrig.training.lightning_options import TRAINER_OWNED, trainer

from .conftest import REPO_ROOT, CliRunner


def test_the_trainer_keys_are_the_installed_trainers_parameters() -> None:
    """The source reader's names and defaults are those of the imported class (max_epochs:
    trainrig's 1000 is what Lightning's None becomes, with a warning)."""
    import pytorch_lightning as pl

    theirs = inspect.signature(pl.Trainer.__init__).parameters
    ours = defaults(trainer)
    assert set(ours) | set(TRAINER_OWNED) == set(theirs) - {"self"}
    for key, value in ours.items():
        expected = 1000 if key == "max_epochs" else theirs[key].default
        assert value == expected and type(value) is type(expected), key


def test_validating_a_trainer_node_imports_no_lightning() -> None:
    code = (
        "import sys; from trainrig.config.signature import builder_for, check_arguments; "
        "check_arguments('trainer', builder_for('pytorch_lightning.Trainer'), "
        "{'fast_dev_run': 2, 'profiler': 'simple', 'devices': [0]}); "
        "assert 'pytorch_lightning' not in sys.modules and 'torch' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO_ROOT)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (
            "+trainer.fast_dev_runn=1",
            r"^trainer\.fast_dev_runn: unknown key \(closest: fast_dev_run",
        ),
        ("+trainer.logger=false", r"^trainer\.logger: trainrig sets it; .*logger=csv"),
        ("+trainer.callbacks=[]", r"^trainer\.callbacks: trainrig sets it; .*callbacks=\[default"),
        ("+trainer.enable_checkpointing=false", r"callbacks\.model_checkpoint"),
        ("trainer.overfit_batches=-1", r"^trainer\.overfit_batches: must be >= 0, got -1"),
        ("trainer.limit_val_batches=abc", r"expected int or float or null, got 'abc'$"),
        ("trainer.detect_anomaly=maybe", r"^trainer\.detect_anomaly: expected bool"),
        ("trainer.profiler=fancy", r"'fancy' is not a profiler; choose one of simple, advanced"),
    ],
)
def test_a_bad_trainer_key_is_refused_naming_the_way_out(
    override: str, message: str, compose_train: Callable[..., DictConfig]
) -> None:
    with pytest.raises(ConfigError, match=message):
        validate(compose_train("trainer=smoke", override), "train")


def test_a_lightning_key_trainrig_never_listed_reaches_the_trainer(
    compose_train: Callable[..., DictConfig], tmp_path: Path
) -> None:
    from trainrig.training.build import build_trainer

    cfg = compose_train("debug=overfit", "trainer.overfit_batches=2", "debug=[overfit,anomaly]")
    validate(cfg, "train")
    built = build_trainer(cfg, tmp_path, callbacks=[])
    assert (built.limit_train_batches, built.limit_val_batches) == (2, 2)  # what overfitting does
    assert built.max_epochs == 20
    assert cfg.trainer.detect_anomaly is True


def test_the_unknown_key_is_one_line_from_the_cli(trainrig_cli: CliRunner, tmp_path: Path) -> None:
    result = trainrig_cli("train", "trainer=smoke", "+trainer.fast_dev_runn=1", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith(
        "trainrig: error: trainer.fast_dev_runn: unknown key (closest: fast_dev_run)"
    )


def test_debug_fdr_with_the_profiler_runs_one_batch_and_writes_the_report(
    trainrig_cli: CliRunner, tmp_path: Path
) -> None:
    """fast_dev_run saves no checkpoint: the run tests the weights it ended with, says so, and
    writes metrics.json; the simple profiler's reports land in <run>/profiler/."""
    run_dir = tmp_path / "run"
    result = trainrig_cli(
        "train", "trainer=smoke", "debug=[fdr,profiler]", f"hydra.run.dir={run_dir}", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "No best checkpoint (trainer.fast_dev_run saves none)" in result.stdout
    assert "Final metrics (of the weights fitting ended with)" in result.stdout
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert 0 <= metrics["test/acc"] <= 1 and "val/acc" in metrics
    assert not (run_dir / "checkpoints" / "best.ckpt").exists()
    report = (run_dir / "profiler" / "fit-profile.txt").read_text()
    assert "FIT Profiler Report" in report and "run_training_batch" in report
