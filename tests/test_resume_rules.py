"""resume=auto's rules in process (rundir/resume.py): which run finished, which checkpoint goes on,
which configs differ, and how `trainrig resume RUN` becomes `trainrig train` arguments."""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path

import pytest
import torch
from omegaconf import DictConfig, OmegaConf

from trainrig.config.errors import ConfigError, RunError
from trainrig.rundir.resume import checkpoint_to_resume, finished_metrics, resume_arguments

METRICS = {"test/acc": 0.9}


def _run(tmp_path: Path, *, metrics: bool = True, last: dict[str, object] | None = None) -> Path:
    """A run directory saved with trainer.max_epochs=2 (and metrics.json, last.ckpt if asked)."""
    (tmp_path / "config.yaml").write_text("trainer:\n  max_epochs: 2\n  max_steps: -1\nseed: 1\n")
    if metrics:
        (tmp_path / "metrics.json").write_text(json.dumps(METRICS))
    if last is not None:
        (tmp_path / "checkpoints").mkdir()
        torch.save(last, tmp_path / "checkpoints" / "last.ckpt")
    return tmp_path


def _cfg(max_epochs: int | None = 2, resume: str | None = "auto", seed: int = 1) -> DictConfig:
    trainer = {"max_epochs": max_epochs, "max_steps": -1}
    return OmegaConf.create({"trainer": trainer, "seed": seed, "resume": resume})


def test_a_finished_run_gives_its_metrics_only_with_resume_auto(tmp_path: Path) -> None:
    run = _run(tmp_path)
    assert finished_metrics(_cfg(), run) == METRICS
    assert finished_metrics(_cfg(resume=None), run) is None
    assert finished_metrics(_cfg(), tmp_path / "elsewhere") is None


def test_a_longer_run_trains_on_unless_early_stopping_ended_it(tmp_path: Path) -> None:
    run = _run(tmp_path, last={"callbacks": {"EarlyStopping": {"stopped_epoch": 0}}})
    assert finished_metrics(_cfg(max_epochs=3), run) is None
    assert finished_metrics(_cfg(max_epochs=-1), run) is None  # no limit is longer
    assert finished_metrics(_cfg(max_epochs=None), run) is None
    with pytest.raises(ConfigError, match=r"another config \(differing: trainer\.max_epochs\)"):
        finished_metrics(_cfg(max_epochs=1), run)  # shorter is another config, not a longer run
    torch.save(
        {"callbacks": {"EarlyStopping": {"stopped_epoch": 1}}}, run / "checkpoints/last.ckpt"
    )
    with pytest.raises(ConfigError, match=r"early stopping ended .* at epoch 1 .*init_from="):
        finished_metrics(_cfg(max_epochs=3), run)


def test_other_callbacks_states_and_max_steps_lengthen_a_finished_run(tmp_path: Path) -> None:
    run = _run(tmp_path, last={"callbacks": {"ModelCheckpoint": {"best_model_score": 0.9}}})
    (run / "config.yaml").write_text("trainer:\n  max_epochs: 2\n  max_steps: 100\nseed: 1\n")
    longer = OmegaConf.create(
        {"trainer": {"max_epochs": 2, "max_steps": 200}, "seed": 1, "resume": "auto"}
    )
    assert finished_metrics(longer, run) is None  # no early stopping state: it trains on
    assert checkpoint_to_resume(longer, run) == run / "checkpoints" / "last.ckpt"


def test_the_last_checkpoint_resumes_only_with_resume_auto_and_the_same_config(
    tmp_path: Path,
) -> None:
    run = _run(tmp_path, metrics=False, last={})
    last = run / "checkpoints" / "last.ckpt"
    assert checkpoint_to_resume(_cfg(), run) == last
    assert checkpoint_to_resume(_cfg(max_epochs=5), run) == last  # lengthened, not another config
    assert checkpoint_to_resume(_cfg(resume=None), run) is None
    with pytest.raises(ConfigError, match=r"another config \(differing: seed\)"):
        checkpoint_to_resume(_cfg(seed=2), run)
    with pytest.raises(ConfigError, match=r"differing: trainer.max_epochs\)"):
        checkpoint_to_resume(_cfg(max_epochs=1), run)
    (run / "config.yaml").unlink()
    assert checkpoint_to_resume(_cfg(seed=2), run) == last  # nothing saved to compare with
    assert checkpoint_to_resume(_cfg(), tmp_path / "elsewhere") is None


def test_resume_arguments_are_the_runs_overrides_then_the_given_ones(tmp_path: Path) -> None:
    (tmp_path / ".hydra").mkdir()
    saved = "- trainer=smoke\n- seed=1\n- +data.x=2\n- resume=auto\n"
    (tmp_path / ".hydra" / "overrides.yaml").write_text(saved)
    arguments = resume_arguments([str(tmp_path), "seed=2", "data.x=3", "resume=never"])
    assert arguments == [
        "trainer=smoke",
        "seed=2",
        "data.x=3",
        f"hydra.run.dir='{tmp_path.resolve()}'",
        "resume=auto",
    ]


@pytest.mark.parametrize("args", [[], ["seed=1"], ["run", "seed"]], ids=["none", "key", "bare"])
def test_resume_arguments_refuse_a_wrong_command_line(args: list[str]) -> None:
    # the whole message, down to how to lengthen a run
    with pytest.raises(
        ConfigError, match=r"^usage: trainrig resume RUN_DIR .*max_steps lengthens it$"
    ):
        resume_arguments(args)


def test_resume_arguments_refuse_a_directory_without_overrides(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"is not a run directory .*overrides.yaml"):
        resume_arguments([str(tmp_path)])


def test_a_damaged_last_checkpoint_is_refused_pointing_to_the_best_one(tmp_path: Path) -> None:
    run = _run(tmp_path, metrics=False, last={})
    last = run / "checkpoints" / "last.ckpt"
    last.write_bytes(last.read_bytes()[:100])  # cut short
    with pytest.raises(RunError, match=r"is damaged .*; start the run over \(rm "):
        checkpoint_to_resume(_cfg(), run)
    torch.save({}, run / "checkpoints" / "best.ckpt")
    with pytest.raises(RunError, match=r"best epoch instead \(cp \S+/best\.ckpt \S+/last\.ckpt\)"):
        checkpoint_to_resume(_cfg(), run)


def test_resume_arguments_replace_only_the_keys_given(tmp_path: Path) -> None:
    (tmp_path / ".hydra").mkdir()
    (tmp_path / ".hydra" / "overrides.yaml").write_text("- ~data.aug=1\n- Xscale=1\n")
    assert resume_arguments([str(tmp_path), "data.aug=2", "scale=2"])[:3] == [
        "Xscale=1",  # another key, though it ends like one given
        "data.aug=2",
        "scale=2",
    ]
    given = resume_arguments([str(tmp_path), "Xscale=2"])  # a given key that starts with X
    assert given[:2] == ["~data.aug=1", "Xscale=2"]


def test_a_newer_slurm_requeue_checkpoint_resumes_instead_of_the_last_one(tmp_path: Path) -> None:
    """Lightning's Slurm requeue saves hpc_ckpt_N.ckpt in the run directory: the newest wins."""
    run = _run(tmp_path, metrics=False, last={})
    last, requeue = run / "checkpoints" / "last.ckpt", run / "hpc_ckpt_1.ckpt"
    torch.save({}, requeue)
    os.utime(last, ns=(1_000_000_000, 1_000_000_000))
    os.utime(requeue, ns=(2_000_000_000, 2_000_000_000))
    assert checkpoint_to_resume(_cfg(), run) == requeue
    os.utime(last, ns=(3_000_000_000, 3_000_000_000))
    assert checkpoint_to_resume(_cfg(), run) == last
    last.unlink()
    assert checkpoint_to_resume(_cfg(), run) == requeue  # a requeue before the first epoch ended


def test_a_checkpoint_whose_directory_promises_more_than_it_holds_is_refused(
    tmp_path: Path,
) -> None:
    """Reading such a member runs out of file (EOFError): damaged, not a crash."""
    run = _run(tmp_path, metrics=False, last={"weights": torch.zeros(10)})
    last = run / "checkpoints" / "last.ckpt"
    data = bytearray(last.read_bytes())
    entry = data.find(b"PK\x01\x02")  # the first member's central directory entry
    data[entry + 20 : entry + 28] = struct.pack("<II", 10**6, 10**6)  # its sizes
    last.write_bytes(data)
    with pytest.raises(RunError, match=r"is damaged \(not a whole checkpoint: \)"):
        checkpoint_to_resume(_cfg(), run)


def test_a_config_with_interpolations_matches_its_resolved_saved_copy(tmp_path: Path) -> None:
    """config.yaml is saved resolved: `${data.size}` is compared by its value."""
    run = _run(tmp_path, last={})
    (run / "config.yaml").write_text("data:\n  size: 32\nmodel:\n  input_size: 32\n")
    cfg = OmegaConf.create(
        {"data": {"size": 32}, "model": {"input_size": "${data.size}"}, "resume": "auto"}
    )
    assert finished_metrics(cfg, run) == METRICS
    assert checkpoint_to_resume(cfg, run) == run / "checkpoints" / "last.ckpt"
