"""Fill an option file's omitted keys with its builder's defaults, as Hydra loads it; and a
command's config (conf/train.yaml, ...) with its top-level, `checkpoint`, `repeat` and
`lr_find` keys."""

from __future__ import annotations

from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf

from trainrig.config.signature import builder_for, defaults
from trainrig.training.run_options import NESTED, TOP_LEVEL

# command config -> whether it holds its command's top-level keys, and the nodes it holds;
# lr_find.yaml composes train.yaml first and adds only `lr_find`.
COMMAND_FILES = {
    "train": (True, ("checkpoint", "init_from", "repeat")),
    "eval": (True, ()),
    "compress": (True, ()),
    "predict": (True, ()),
    "lr_find": (False, ("lr_find",)),
}


def with_run_keys(config: DictConfig | ListConfig, name: str) -> DictConfig | ListConfig:
    """`config`, the command config `name` (e.g. "train"), with every key it omits at its
    default; any other config unchanged."""
    if name not in COMMAND_FILES or not isinstance(config, DictConfig):
        return config
    top, nodes = COMMAND_FILES[name]
    base: dict[str, Any] = dict(defaults(TOP_LEVEL[name])) if top else {}
    base.update({key: defaults(NESTED[key]) for key in nodes})
    merged = OmegaConf.merge(OmegaConf.create(base), config)
    assert isinstance(merged, DictConfig)
    return merged


def with_defaults(config: DictConfig | ListConfig) -> DictConfig | ListConfig:
    """`config` with every builder parameter it omits at the default, for a node with a built-in
    `_target_` at the top or one level down (`logger/csv.yaml` holds `csv: {_target_: ...}`)."""
    if not isinstance(config, DictConfig):
        return config
    filled = _filled(config)
    if filled is not None:
        return filled
    for key in list(config.keys()):
        node = config._get_node(key)
        if isinstance(node, DictConfig):
            below = _filled(node)
            if below is not None:
                config[key] = below
    return config


def _filled(node: DictConfig) -> DictConfig | None:
    target = node._get_node("_target_") if "_target_" in node else None
    builder = builder_for(str(target._value())) if target is not None else None
    if builder is None:
        return None
    head: dict[str, Any] = {k: node._get_node(k) for k in ("_target_", "_partial_") if k in node}
    base = OmegaConf.create({**head, **defaults(builder)})
    merged = OmegaConf.merge(base, node)
    assert isinstance(merged, DictConfig)
    return merged
