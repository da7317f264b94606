"""Check a composed config against its options' signatures before anything heavy runs.

A group's node is checked against the signature of its `_target_`, so a typo, a wrong type or a
value out of range fails here, before data is loaded or torch is imported. Nodes with a
`_target_` that trainrig does not know (a user's own builder) are passed through unchecked; an
empty node means the group is switched off (`scheduler=none`). Every failure raises
`ConfigError` with one message that names the full key and what is allowed.
"""

from __future__ import annotations

from typing import Any

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from trainrig.config.cross_group import check_across_groups
from trainrig.config.errors import ConfigError
from trainrig.config.signature import builder_for, check_arguments
from trainrig.config.target_allowlist import OPT_IN, check_targets
from trainrig.tasks.settle import settle_metrics
from trainrig.training.run_options import NESTED, TOP_LEVEL

# Top-level groups holding one component each; `logger` holds a mapping of named loggers.
COMPONENT_GROUPS = (
    "task",
    "data",
    "augmentation",
    "model",
    "optimizer",
    "scheduler",
    "early_stopping",
    "trainer",
    "compression",
    "strategy",
)
# Keys that hold named components, each checked as a group's node: loggers, extra callbacks.
MAPPINGS = ("logger", "callbacks")


def resolved(cfg: DictConfig) -> dict[str, Any]:
    """The config as plain containers with every `${...}` resolved."""
    try:
        container = OmegaConf.to_container(cfg, resolve=True, throw_on_missing=False)
    except OmegaConfBaseException as error:
        detail = str(error.msg).splitlines()[0]  # OmegaConf appends full_key and object_type
        raise ConfigError(
            f"{error.full_key or 'config'}: {detail}; fix that ${{...}} interpolation "
            "(`trainrig train --cfg job` shows the keys it may name)"
        ) from None
    assert isinstance(container, dict)
    return container  # type: ignore[return-value]


def validate(cfg: DictConfig, task: str = "train") -> dict[str, Any]:
    """Validate a composed `train` or `eval` config and return it resolved; a training config's
    null metric choices (`checkpoint.monitor`, ...) are settled in `cfg` first."""
    if task in ("train", "lr_find"):
        settle_metrics(cfg)
    values = resolved(cfg)
    check_targets(values, allow_any=values.get(OPT_IN) is True)
    groups = [g for g in (*COMPONENT_GROUPS, *MAPPINGS) if g in values]
    if isinstance(values.get("init_from"), str):  # `init_from=PATH`: short for init_from.path
        values["init_from"] = {"path": values["init_from"], "strict": False, "freeze": []}
    nested = [k for k in NESTED if k in values]
    top_level = {k: v for k, v in values.items() if k not in groups and k not in nested}
    check_arguments("", TOP_LEVEL[task], top_level)
    for key in nested:
        if not isinstance(values[key], dict):
            raise ConfigError(f"{key}: expected a mapping of options, got {values[key]!r}")
        check_arguments(key, NESTED[key], values[key])
    for group in groups:
        node = values[group] or {}
        if group in MAPPINGS:
            for name, item in node.items():
                check_component(f"{group}.{name}", item)
        else:
            check_component(group, node)
    check_across_groups(values, task)
    return values


def check_component(path: str, node: Any) -> None:
    """Check one group's node: empty means switched off; else its `_target_` picks the builder
    whose signature it must fit (none for a target trainrig does not know)."""
    if node is None or node == {}:
        return
    if not isinstance(node, dict):
        raise ConfigError(f"{path}: expected a mapping of options, got {node!r}")
    target = node.get("_target_")
    if target is None:
        raise ConfigError(
            f"{path}: an option needs `_target_` (the function or class that builds it); "
            f"keys given: {', '.join(sorted(node))}"
        )
    if not isinstance(target, str):
        raise ConfigError(
            f"{path}._target_: expected the dotted name of a function or class "
            f"(e.g. trainrig.models.cnn.build_cnn), got {target!r}"
        )
    builder = builder_for(target)
    if builder is not None:
        check_arguments(path, builder, node)
