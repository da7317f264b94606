"""Reading checkpoints in process (rundir/checkpoints.py, rundir/checkpoint_io.py): plain data
only, pickled objects refused or (trusted) copied to plain data, foreign and damaged files named."""

from __future__ import annotations

from pathlib import Path

import fsspec
import pytest
import torch
from omegaconf import OmegaConf

from trainrig.compression.channel_pruning import ChannelPruning, history
from trainrig.compression.pruned_checkpoint import plan, write
from trainrig.config.errors import ConfigError
from trainrig.models.mlp import build_mlp
from trainrig.rundir.checkpoint_io import SafeCheckpointIO
from trainrig.rundir.checkpoints import (
    load_config_from_checkpoint,
    load_fitting_weights,
    read_checkpoint,
    read_trainrig_checkpoint,
    vetted_checkpoint,
)
from trainrig.training.callbacks.config_in_checkpoint import CONFIG_KEY

CONFIG = {"model": {"_target_": "torch.nn.Linear", "in_features": 2, "out_features": 1}}
# The end of every "cannot read" message, spelled out: the constant could change unseen.
WAY_OUT = "pass the checkpoints/best.ckpt (or last.ckpt) that a `trainrig train` run wrote"


def _saved(folder: Path, name: str, checkpoint: object) -> Path:
    path = folder / name
    torch.save(checkpoint, path)
    return path


def _plain(folder: Path, config: object = CONFIG) -> Path:
    state = torch.nn.Linear(2, 1).state_dict()
    return _saved(folder, "plain.ckpt", {"state_dict": state, CONFIG_KEY: config, "epoch": 3})


def _pickled(folder: Path) -> Path:
    """A legacy checkpoint: its config is a pickled DictConfig object with an interpolation."""
    checkpoint = {
        "state_dict": torch.nn.Linear(2, 1).state_dict(),
        CONFIG_KEY: OmegaConf.create({**CONFIG, "width": "${model.in_features}"}),
        "epoch": 4,
        "global_step": 40,
        "pytorch-lightning_version": "2.5.0",
        "loops": object(),
    }
    return _saved(folder, "legacy.ckpt", checkpoint)


def test_a_plain_trainrig_checkpoint_reads_with_its_config(tmp_path: Path) -> None:
    path = _plain(tmp_path)
    assert read_trainrig_checkpoint(path, "init_from.path")["epoch"] == 3
    assert OmegaConf.to_container(load_config_from_checkpoint(path)) == CONFIG
    assert vetted_checkpoint(path, trust=False, allow_any_target=False, run_dir=tmp_path) == path


def test_pickled_objects_are_refused_with_the_way_out_for_the_key(tmp_path: Path) -> None:
    path = _pickled(tmp_path)
    refusal = (
        f"{path} holds pickled Python objects, and unpickling them could run code from the file; "
        "trainrig loads tensors and plain data only. If you trust whoever made it, "
    )
    with pytest.raises(ConfigError) as refused:
        read_checkpoint(path)
    assert str(refused.value) == f"ckpt_path: {refusal}pass trust_checkpoint=true"
    with pytest.raises(ConfigError) as refused:
        read_checkpoint(path, "init_from.path")
    assert str(refused.value) == (
        f"init_from.path: {refusal}`trainrig eval ckpt_path={path} trust_checkpoint=true` writes "
        "a plain copy of it (checkpoints/trusted_copy.ckpt in its run directory) to pass instead"
    )
    with pytest.raises(ConfigError, match=r"^ckpt_path: .* holds pickled"):
        vetted_checkpoint(path, trust=False, allow_any_target=False, run_dir=tmp_path)


def test_a_trusted_legacy_checkpoint_is_copied_to_plain_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _pickled(tmp_path)
    copy = vetted_checkpoint(path, trust=True, allow_any_target=False, run_dir=tmp_path / "run")
    assert copy == tmp_path / "run" / "checkpoints" / "trusted_copy.ckpt"
    assert capsys.readouterr().err == (
        f"trainrig: warning: trust_checkpoint=true: unpickling {path} in full, which runs any "
        f"code the file holds; its weights and config are copied to {copy} and read from there\n"
    )
    plain = torch.load(copy, weights_only=True)
    weights, original = plain.pop("state_dict"), torch.load(path, weights_only=False)["state_dict"]
    assert weights.keys() == original.keys() == {"weight", "bias"}
    assert all(torch.equal(weights[k], original[k]) for k in weights)
    assert plain == {  # the keys eval and compress read, the config as a resolved dict; no loops
        CONFIG_KEY: {**CONFIG, "width": 2},
        "epoch": 4,
        "global_step": 40,
        "pytorch-lightning_version": "2.5.0",
    }
    not_a_dict = _saved(tmp_path, "list.ckpt", [object()])
    with pytest.raises(ConfigError, match=r"^ckpt_path: .*list\.ckpt holds a list, not a dict$"):
        vetted_checkpoint(not_a_dict, trust=True, allow_any_target=False, run_dir=tmp_path)


def test_a_stored_config_naming_outside_code_is_refused_unless_opted_in(tmp_path: Path) -> None:
    path = _plain(tmp_path, {"model": {"_target_": "os.system"}})
    with pytest.raises(ConfigError, match=r"^ckpt_path: the config stored in .* has model\._t"):
        vetted_checkpoint(path, trust=False, allow_any_target=False, run_dir=tmp_path)
    assert vetted_checkpoint(path, trust=False, allow_any_target=True, run_dir=tmp_path) == path


def test_foreign_missing_and_damaged_files_are_named(tmp_path: Path) -> None:
    key = "init_from.path"
    with pytest.raises(ConfigError, match=rf"^{key}: no checkpoint file at .*nowhere\.ckpt"):
        read_trainrig_checkpoint(tmp_path / "nowhere.ckpt", key)
    foreign = _saved(tmp_path, "foreign.ckpt", {"weights": torch.zeros(1)})
    with pytest.raises(ConfigError, match=rf"^{key}: .* was not written by `trainrig train`"):
        read_trainrig_checkpoint(foreign, key)
    no_weights = _saved(tmp_path, "no_weights.ckpt", {CONFIG_KEY: CONFIG})
    with pytest.raises(ConfigError, match=rf"^{key}: .* holds no weights \(no 'state_dict'\)"):
        read_trainrig_checkpoint(no_weights, key)
    cut = tmp_path / "cut.ckpt"
    cut.write_bytes(_plain(tmp_path).read_bytes()[:300])
    with pytest.raises(ConfigError, match=r"^ckpt_path: cannot read .*cut\.ckpt as a checkpoint"):
        read_checkpoint(cut)
    empty = tmp_path / "empty.ckpt"
    empty.write_bytes(b"")
    with pytest.raises(ConfigError, match=r"empty\.ckpt as a checkpoint \(EOFError: no detail\)"):
        read_checkpoint(empty)  # torch's EOFError has no text
    with pytest.raises(ConfigError, match=r"^ckpt_path: .*tensor\.ckpt was not written by `trai"):
        load_config_from_checkpoint(_saved(tmp_path, "tensor.ckpt", torch.zeros(1)))


def test_weights_that_do_not_fit_the_model_are_named(tmp_path: Path) -> None:
    path = _plain(tmp_path)
    model = torch.nn.Linear(2, 1)
    load_fitting_weights(model, path)
    expected = torch.load(path, weights_only=True)["state_dict"]["weight"]
    assert torch.equal(model.weight, expected)
    with pytest.raises(ConfigError, match=r"^ckpt_path: the weights in .* do not fit .*\(size"):
        load_fitting_weights(torch.nn.Linear(3, 1), path)


def test_checkpoint_io_saves_local_files_itself_and_urls_through_lightning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # a URL saved as a local path would land here
    io = SafeCheckpointIO()
    io.save_checkpoint({"epoch": 1}, tmp_path / "a.ckpt")
    assert torch.load(tmp_path / "a.ckpt", weights_only=True) == {"epoch": 1}
    io.save_checkpoint({"epoch": 2}, "memory://trainrig-test/b.ckpt")
    with fsspec.open("memory://trainrig-test/b.ckpt", "rb") as file:
        assert torch.load(file, weights_only=True) == {"epoch": 2}
    assert not (tmp_path / "memory:").exists()
    with pytest.raises(TypeError, match="storage_options"):
        io.save_checkpoint({"epoch": 3}, tmp_path / "c.ckpt", storage_options={"x": 1})
    assert io.load_checkpoint(tmp_path / "a.ckpt") == {"epoch": 1}
    torch.save({"epoch": 1, "object": object()}, tmp_path / "objects.ckpt")
    for asked in (None, False, True):
        with pytest.raises(Exception, match="Weights only load failed"):
            io.load_checkpoint(tmp_path / "objects.ckpt", weights_only=asked)


def test_torchs_own_first_line_names_what_is_wrong_with_a_file(tmp_path: Path) -> None:
    cut = tmp_path / "cut.ckpt"
    cut.write_bytes(_plain(tmp_path).read_bytes()[:300])
    with pytest.raises(
        ConfigError, match=r"\(RuntimeError: PytorchStreamReader failed reading zip"
    ):
        read_checkpoint(cut)
    text = tmp_path / "notes.ckpt"
    text.write_text("not a checkpoint\n")
    trusted = pytest.raises(ConfigError, match=r"notes\.ckpt .*\(UnpicklingError: invalid load key")
    with trusted:  # the full unpickler's own words, not "damaged" as for weights-only's advice
        vetted_checkpoint(text, trust=True, allow_any_target=False, run_dir=tmp_path / "run")


def test_a_trusted_copy_is_written_again_where_checkpoints_already_exist(tmp_path: Path) -> None:
    path, run = _pickled(tmp_path), tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    for _ in range(2):  # into a run directory with checkpoints/, then over the copy written
        copy = vetted_checkpoint(path, trust=True, allow_any_target=False, run_dir=run)
        assert torch.load(copy, weights_only=True)["epoch"] == 4


def test_a_file_of_no_pickle_opcodes_is_damaged_not_pickled_objects(tmp_path: Path) -> None:
    text = tmp_path / "notes.ckpt"
    text.write_text("not a checkpoint\n")  # weights-only: "Unsupported operand 110" ('n')
    damaged = f"cannot read {text} as a checkpoint (UnpicklingError: its data is damaged)"
    with pytest.raises(ConfigError) as refused:
        read_checkpoint(text)
    assert str(refused.value) == f"ckpt_path: {damaged}; is the file complete? {WAY_OUT}"
    with pytest.raises(ConfigError) as refused:
        read_trainrig_checkpoint(text, "init_from.path")
    assert str(refused.value) == f"init_from.path: {damaged}; is the file complete? {WAY_OUT}"


def test_only_torchs_unpickling_error_is_read_for_objects_or_damage(tmp_path: Path) -> None:
    """Another error that holds torch's words (in the path it names) keeps its own first line."""
    for name in ("Weights only load failed.ckpt", "Unsupported operand.ckpt"):
        missing = tmp_path / name
        with pytest.raises(ConfigError) as refused:
            read_checkpoint(missing)
        assert str(refused.value) == (
            f"ckpt_path: cannot read {missing} as a checkpoint (FileNotFoundError: [Errno 2] "
            f"No such file or directory: '{missing}'); is the file complete? {WAY_OUT}"
        )


SHAPE = (1, 8, 8)


class Classifier(torch.nn.Module):
    """trainrig's classifier as channel pruning sees it: the network is its `model`."""

    def __init__(self) -> None:
        super().__init__()
        self.model = build_mlp(SHAPE, 10, hidden_sizes=(16, 8))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)  # type: ignore[no-any-return]


def _pruned_checkpoint(folder: Path, traced_shape: tuple[int, ...]) -> tuple[Classifier, Path]:
    pytest.importorskip("torch_pruning")
    classifier = Classifier().eval()
    ChannelPruning().prune(classifier.model, torch.zeros(2, *SHAPE), 0.5)
    path = folder / "pruned.ckpt"
    write(classifier, plan(history(classifier.model), traced_shape), CONFIG, path)
    return classifier, path


def test_a_channel_pruned_checkpoint_loads_into_the_model_narrowed_by_its_plan(
    tmp_path: Path,
) -> None:
    pruned, path = _pruned_checkpoint(tmp_path, SHAPE)
    fresh = Classifier().eval()
    load_fitting_weights(fresh, path)
    example = torch.randn(3, *SHAPE)
    assert torch.equal(fresh(example), pruned(example))


def test_a_pruning_plan_that_does_not_fit_the_model_is_named_in_its_one_line(
    tmp_path: Path,
) -> None:
    _, path = _pruned_checkpoint(tmp_path, (3, 8, 8))  # traced with other inputs than the model's
    with pytest.raises(ConfigError, match=r"do not fit .*\(mat1 and mat2 shapes cannot be mul"):
        load_fitting_weights(Classifier().eval(), path)
