"""Reading trainrig checkpoints safely (tensors and plain data only, never arbitrary code).

Every checkpoint is read with `torch.load(weights_only=True)`. A legacy checkpoint that holds
pickled Python objects is refused unless the user passes `TRUST_FLAG=true`; then, with a
warning, it is unpickled once and its weights and config are copied to a plain checkpoint in the
run directory, which is what the rest of the run reads.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import TYPE_CHECKING, Any

from omegaconf import DictConfig, OmegaConf

from trainrig.config.errors import ConfigError, print_warning
from trainrig.config.target_allowlist import check_targets_resolve
from trainrig.training.callbacks.config_in_checkpoint import CONFIG_KEY

if TYPE_CHECKING:
    import torch

TRUST_FLAG = "trust_checkpoint"
TRUSTED_COPY = "checkpoints/trusted_copy.ckpt"
WAY_OUT = "pass the checkpoints/best.ckpt (or last.ckpt) that a `trainrig train` run wrote"
# What eval and compress read from a checkpoint (Lightning's test needs its version key).
PLAIN_KEYS = ("state_dict", CONFIG_KEY, "pytorch-lightning_version", "epoch", "global_step")


def _holds_objects(error: BaseException) -> bool:
    """Whether torch refused the file for holding Python objects (not for being broken)."""
    text = str(error)
    # A damaged file also reaches the unpickler, which then meets bytes that are no opcode.
    broken = "Unsupported operand" in text
    return (
        isinstance(error, pickle.UnpicklingError)
        and "Weights only load failed" in text
        and not broken
    )


def _first_line(error: BaseException) -> str:
    if isinstance(error, pickle.UnpicklingError) and "Unsupported operand" in str(error):
        return "its data is damaged"  # not torch's advice to retry with weights_only=False
    return str(error).splitlines()[0] if str(error) else "no detail"


def read_checkpoint(path: Path, key: str = "ckpt_path") -> Any:
    """The checkpoint at `path`, tensors and plain data only; a ConfigError names the way out
    and the config `key` that named the file."""
    import torch

    trust = (
        f"pass {TRUST_FLAG}=true"
        if key == "ckpt_path"
        else f"`trainrig eval ckpt_path={path} {TRUST_FLAG}=true` writes a plain copy of it "
        f"({TRUSTED_COPY} in its run directory) to pass instead"
    )
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        if _holds_objects(error):
            raise ConfigError(
                f"{key}: {path} holds pickled Python objects, and unpickling them could run "
                f"code from the file; trainrig loads tensors and plain data only. If you trust "
                f"whoever made it, {trust}"
            ) from None
        raise ConfigError(
            f"{key}: cannot read {path} as a checkpoint ({type(error).__name__}: "
            f"{_first_line(error)}); is the file complete? {WAY_OUT}"
        ) from None


def load_config_from_checkpoint(path: Path) -> DictConfig:
    """The resolved training config stored in a checkpoint by `ConfigInCheckpoint`."""
    return _stored_config(read_checkpoint(path), path)


def _stored_config(checkpoint: Any, path: Path, key: str = "ckpt_path") -> DictConfig:
    if not isinstance(checkpoint, dict) or CONFIG_KEY not in checkpoint:
        raise ConfigError(
            f"{key}: {path} was not written by `trainrig train` (it holds no '{CONFIG_KEY}'); "
            f"{WAY_OUT}"
        )
    config = OmegaConf.create(checkpoint[CONFIG_KEY])
    assert isinstance(config, DictConfig)
    return config


def read_trainrig_checkpoint(path: Path, key: str) -> dict[str, Any]:
    """The checkpoint at `path` (named by config `key`), refused unless `trainrig train` wrote
    it: a missing file, a damaged one, one of pickled objects or of another program."""
    if not path.is_file():
        raise ConfigError(
            f"{key}: no checkpoint file at {path}; pass the .ckpt a training run wrote, e.g. "
            f"{key}=outputs/train/runs/<run>/checkpoints/best.ckpt"
        )
    checkpoint = read_checkpoint(path, key)
    _stored_config(checkpoint, path, key)
    if not isinstance(checkpoint.get("state_dict"), dict):
        raise ConfigError(f"{key}: {path} holds no weights (no 'state_dict'); {WAY_OUT}")
    return checkpoint  # type: ignore[no-any-return]


def load_fitting_weights(model: torch.nn.Module, path: Path) -> None:
    """Load the weights of the checkpoint at `path` into `model`, the model its stored config
    describes; a ConfigError when they do not fit (the config or the weights were changed). A
    channel-pruned checkpoint's model is narrowed first, as its stored plan says."""
    from trainrig.compression.pruned_checkpoint import restore_widths

    checkpoint = read_checkpoint(path)
    state = checkpoint.get("state_dict", {})
    try:
        restore_widths(model, checkpoint)
        model.load_state_dict(state)
    except RuntimeError as error:
        lines = str(error).splitlines()
        detail = lines[1].strip() if len(lines) > 1 else _first_line(error)
        raise ConfigError(
            f"ckpt_path: the weights in {path} do not fit the model its stored config describes "
            f"({detail}); the file was changed after training: {WAY_OUT}"
        ) from None


def vetted_checkpoint(path: Path, trust: bool, allow_any_target: bool, run_dir: Path) -> Path:
    """The checkpoint eval/compress may read: `path` itself when it is plain data (or, trusted,
    a plain copy of it in `run_dir`) and when its config names only allowed `_target_`s."""
    try:
        checkpoint = read_checkpoint(path)
    except ConfigError:
        if not trust:
            raise
        path, checkpoint = _plain_copy(path, run_dir), None
    config = _stored_config(checkpoint if checkpoint is not None else read_checkpoint(path), path)
    try:
        check_targets_resolve(OmegaConf.to_container(config), allow_any_target)  # type: ignore[arg-type]
    except ConfigError as error:
        raise ConfigError(f"ckpt_path: the config stored in {path} has {error}") from None
    return path


def _plain_copy(path: Path, run_dir: Path) -> Path:
    """Unpickle `path` in full (the user trusts it) and save its weights and config as a
    checkpoint of tensors and plain data in `run_dir`."""
    import torch

    print_warning(
        f"{TRUST_FLAG}=true: unpickling {path} in full, which runs any code the file holds; "
        f"its weights and config are copied to {run_dir / TRUSTED_COPY} and read from there"
    )
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as error:
        raise ConfigError(
            f"ckpt_path: cannot read {path} as a checkpoint ({type(error).__name__}: "
            f"{_first_line(error)}); is the file complete? {WAY_OUT}"
        ) from None
    if not isinstance(checkpoint, dict):
        raise ConfigError(f"ckpt_path: {path} holds a {type(checkpoint).__name__}, not a dict")
    plain = {k: checkpoint[k] for k in PLAIN_KEYS if k in checkpoint}
    if isinstance(plain.get(CONFIG_KEY), DictConfig):
        plain[CONFIG_KEY] = OmegaConf.to_container(plain[CONFIG_KEY], resolve=True)
    copy = run_dir / TRUSTED_COPY  # save_atomic makes its folder
    from trainrig.rundir.checkpoint_io import save_atomic

    save_atomic(plain, copy)
    return copy
