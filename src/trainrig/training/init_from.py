"""Fine-tuning (`init_from`): a new run's module starts from a trained checkpoint's weights.

Only weights are taken: the optimizer, the schedule and the epoch count start fresh. Tensors
load where name and shape match; the rest is reported (`strict` refuses any). The input
normalization and a regression's output scale stay this run's own (its data's statistics, as
its normalization.json records them). `freeze` switches gradients off for the parameters it
names (a parameter, or a layer by its prefix); BatchNorm running statistics still update.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from torch import nn

from trainrig.config.errors import ConfigError
from trainrig.rundir.checkpoints import read_trainrig_checkpoint

KEY = "init_from"
DATA_STATISTICS = ("normalization.", "output_scale.")  # this run's data's, never loaded
SHOWN = 6  # names listed per line before "... and N more"


@dataclass
class Initialized:
    """What `init_from` did, for the lines the run prints."""

    path: str
    loaded: int = 0
    total: int = 0
    mismatched: list[str] = field(default_factory=list)  # "name checkpoint (a, b), model (c, d)"
    missing: list[str] = field(default_factory=list)  # in the model, not in the checkpoint
    unexpected: list[str] = field(default_factory=list)  # in the checkpoint, not in the model
    frozen: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        if self.total:
            lines = [f"{KEY}: loaded {self.loaded} of {self.total} tensors from {self.path}"]
        else:
            lines = [f"{KEY}: resumed, so the weights come from last.ckpt, not {self.path}"]
        for label, names in (
            ("not loaded, shapes differ", self.mismatched),
            ("not in the checkpoint, left as initialized", self.missing),
            ("in the checkpoint only, ignored", self.unexpected),
        ):
            if names:
                lines.append(f"{KEY}: {label}: {_shown(names)}")
        if self.frozen:
            lines.append(f"{KEY}: frozen ({len(self.frozen)} parameters): {_shown(self.frozen)}")
        return lines


def _shown(names: list[str]) -> str:
    more = f" ... and {len(names) - SHOWN} more" if len(names) > SHOWN else ""
    return ", ".join(names[:SHOWN]) + more


def initialize(module: nn.Module, node: Any, load: bool) -> Initialized | None:
    """Load the checkpoint `node.path` into `module` (unless `load` is false: a resumed run has
    its weights already) and freeze `node.freeze`; None when `init_from` is not set."""
    path, freeze = (node or {}).get("path"), list((node or {}).get("freeze") or [])
    if not path:
        if freeze:
            raise ConfigError(
                f"{KEY}.freeze: freezing keeps loaded weights fixed, but {KEY}.path is not set: "
                f"pass {KEY}.path=CHECKPOINT, or drop {KEY}.freeze"
            )
        return None
    done = Initialized(str(path))
    if load:
        _load(module, Path(str(path)), bool(node.get("strict")), done)
    done.frozen = _freeze(module, freeze)
    return done


def _load(module: nn.Module, path: Path, strict: bool, done: Initialized) -> None:
    source = read_trainrig_checkpoint(path, f"{KEY}.path")["state_dict"]
    target = module.state_dict()

    def ours(name: str) -> bool:
        return not name.startswith(DATA_STATISTICS)

    fitting = {}
    for name, tensor in source.items():
        if not ours(name):
            continue
        if name not in target:
            done.unexpected.append(name)
        elif tensor.shape != target[name].shape:
            shapes = f"checkpoint {tuple(tensor.shape)}, model {tuple(target[name].shape)}"
            done.mismatched.append(f"{name} ({shapes})")
        else:
            fitting[name] = tensor
    done.missing = [name for name in target if ours(name) and name not in source]
    done.loaded, done.total = len(fitting), len([n for n in target if ours(n)])
    differences = done.mismatched + done.missing + done.unexpected
    if strict and differences:
        raise ConfigError(
            f"{KEY}.strict: the weights in {path} do not fit this run's model ({len(differences)}"
            f" differences, first: {differences[0]}); set {KEY}.strict=false to load the "
            "tensors that fit and keep the rest as initialized"
        )
    if not fitting:
        raise ConfigError(
            f"{KEY}.path: no tensor of {path} fits this run's model (names or shapes differ "
            f"everywhere, e.g. {differences[0] if differences else 'no tensors'}); init from a "
            "checkpoint of the same model"
        )
    module.load_state_dict(fitting, strict=False)


def _freeze(module: nn.Module, names: list[str]) -> list[str]:
    """Switch off gradients for every parameter named or under a named layer; the names frozen."""
    parameters = dict(module.named_parameters())
    frozen: list[str] = []
    for name in names:
        hits = [p for p in parameters if p == name or p.startswith(f"{name}.")]
        if not hits:
            layers = {p.rsplit(".", 1)[0] for p in parameters} | set(parameters)
            close = difflib.get_close_matches(name, sorted(layers), n=3, cutoff=0.5)
            hint = f"did you mean {', '.join(close)}?" if close else f"e.g. {next(iter(layers))}"
            raise ConfigError(
                f"{KEY}.freeze: {name!r} names no parameter or layer of the model; {hint} "
                "(a parameter name, or the prefix of a layer, as the checkpoint's state_dict "
                "spells them)"
            )
        for p in hits:
            parameters[p].requires_grad_(False)
        frozen += [p for p in hits if p not in frozen]
    return frozen
