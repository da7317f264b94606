"""Loading a checkpoint never runs code from it: weights only, unless the user trusts the file."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from trainrig.rundir.checkpoint_io import SafeCheckpointIO

from .conftest import CliRunner, run_trainrig
from .test_bad_input import _assert_clean_rejection


class RunsCode:
    """Unpickling this writes a marker file: what a malicious checkpoint would do."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return exec, (f"open({str(self.marker)!r}, 'w').close()",)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """best.ckpt of a seconds-long training run."""
    cwd = tmp_path_factory.mktemp("trained")
    result = run_trainrig("train", "trainer=smoke", "hydra.run.dir=run", cwd=cwd)
    assert result.returncode == 0, result.stderr
    return cwd / "run" / "checkpoints" / "best.ckpt"


def _planted(trained: Path, folder: Path) -> tuple[Path, Path]:
    """A copy of a real checkpoint with one pickled object that runs code; its marker path."""
    marker = folder / "code-ran"
    checkpoint = torch.load(trained, map_location="cpu", weights_only=True)
    checkpoint["payload"] = RunsCode(marker)
    path = folder / "planted.ckpt"
    torch.save(checkpoint, path)
    return path, marker


@pytest.mark.parametrize("command", ["eval", "compress"])
def test_a_checkpoint_that_would_run_code_is_refused(
    command: str, trained: Path, trainrig_cli: CliRunner, tmp_path: Path
) -> None:
    planted, marker = _planted(trained, tmp_path)
    result = trainrig_cli(command, f"ckpt_path={planted}", "trainer=smoke", cwd=tmp_path)
    _assert_clean_rejection(result, f"ckpt_path: {planted} holds pickled Python objects", tmp_path)
    assert "trust_checkpoint=true" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not marker.exists()


def test_trust_checkpoint_loads_it_with_a_warning(
    trained: Path, trainrig_cli: CliRunner, tmp_path: Path
) -> None:
    planted, marker = _planted(trained, tmp_path)
    result = trainrig_cli(
        "eval", f"ckpt_path={planted}", "trust_checkpoint=true", "trainer=smoke",
        "hydra.run.dir=run", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert f"trainrig: warning: trust_checkpoint=true: unpickling {planted} in full" in (
        result.stderr
    )
    assert marker.exists()  # trusted: the file's code did run, as the warning said
    copy = tmp_path / "run" / "checkpoints" / "trusted_copy.ckpt"
    assert "payload" not in torch.load(copy, weights_only=True)  # the copy is plain data
    assert (tmp_path / "run" / "metrics.json").is_file()


def test_lightnings_loading_is_weights_only_whatever_it_is_asked(
    trained: Path, tmp_path: Path
) -> None:
    planted, marker = _planted(trained, tmp_path)
    for asked in (None, False, True):
        with pytest.raises(Exception, match="Weights only load failed"):
            SafeCheckpointIO().load_checkpoint(planted, weights_only=asked)
    assert not marker.exists()


def test_a_plain_checkpoint_whose_config_names_outside_code_is_refused(
    trained: Path, trainrig_cli: CliRunner, tmp_path: Path
) -> None:
    marker = tmp_path / "code-ran"
    checkpoint = torch.load(trained, map_location="cpu", weights_only=True)
    checkpoint["trainrig_config"]["data"] = {"_target_": "os.system", "command": f"touch {marker}"}
    planted = tmp_path / "plain.ckpt"
    torch.save(checkpoint, planted)
    result = trainrig_cli("eval", f"ckpt_path={planted}", "trainer=smoke", cwd=tmp_path)
    _assert_clean_rejection(
        result,
        f"ckpt_path: the config stored in {planted} has data._target_: 'os.system' is not under",
        tmp_path,
    )
    assert "allow_any_target=true" in result.stderr
    assert not marker.exists()


def test_a_trained_checkpoint_is_plain_data_and_evaluates(
    trained: Path, trainrig_cli: CliRunner, tmp_path: Path
) -> None:
    torch.load(trained, weights_only=True)  # raises if it held anything but plain data
    copy = tmp_path / "best.ckpt"
    shutil.copy(trained, copy)
    result = trainrig_cli("eval", f"ckpt_path={copy}", "trainer=smoke", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "warning" not in result.stderr
