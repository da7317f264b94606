"""Each node of the `logger` mapping made into a Lightning Logger writing in the run directory.

A node's `_target_` may be trainrig's builder (the directory is its positional-only first
parameter), any Lightning logger or a user's own Logger subclass (given the directory as
`save_dir` when it takes one). Validation checks only the options trainrig describes
(`@option` builders, the CSVLogger stand-in); every other target's keys are checked here against
its own signature before any logger is made, so a typo is one line naming the closest key.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Mapping
from typing import TYPE_CHECKING

from hydra.errors import InstantiationException
from hydra.utils import get_object, instantiate
from omegaconf import DictConfig

from trainrig.config.errors import ConfigError

if TYPE_CHECKING:
    from pytorch_lightning.loggers import Logger

DIRECTORY = "save_dir"


def build_loggers(nodes: Mapping[str, DictConfig | None], save_dir: str) -> list[Logger]:
    """Every enabled node (null or `{}` is off), each checked before the first is made."""
    enabled = {name: node for name, node in nodes.items() if node}
    arguments = {
        name: _arguments(f"logger.{name}", node, save_dir) for name, node in enabled.items()
    }
    return [_made(f"logger.{name}", enabled[name], *arguments[name]) for name in enabled]


def _arguments(
    path: str, node: DictConfig, save_dir: str
) -> tuple[tuple[str, ...], dict[str, str]]:
    """What the runner adds to the node's keys: the directory, by position or as `save_dir`."""
    parameters = _parameters(node)
    if any(p.kind is p.POSITIONAL_ONLY for p in parameters.values()):  # trainrig's convention
        return (save_dir,), {}
    _check_keys(path, str(node["_target_"]), parameters, _keys(node))
    given = DIRECTORY in parameters and DIRECTORY not in node
    return (), ({DIRECTORY: save_dir} if given else {})


def _parameters(node: DictConfig) -> Mapping[str, inspect.Parameter]:
    """The parameters of the node's target; none known for one without a readable signature."""
    try:
        return inspect.signature(get_object(str(node["_target_"]))).parameters
    except (TypeError, ValueError):
        return {}


def _keys(node: DictConfig) -> set[str]:
    """The node's own keys, without Hydra's (`_target_`, `_partial_`, ...)."""
    return {str(key) for key in node if not (str(key).startswith("_") and str(key).endswith("_"))}


def _check_keys(
    path: str, target: str, parameters: Mapping[str, inspect.Parameter], keys: set[str]
) -> None:
    """Refuse a key the target does not take (unless it takes any) and a required one missing."""
    named = [
        n for n, p in parameters.items() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    ]
    takes_any = any(p.kind is p.VAR_KEYWORD for p in parameters.values())
    for key in sorted(keys - set(named)) if not takes_any else []:
        closest = difflib.get_close_matches(key, named, n=1)
        hint = f"did you mean {closest[0]}? " if closest else ""
        raise ConfigError(
            f"{path}.{key}: unknown key for {target}; {hint}"
            f"Allowed keys: {', '.join(named) or 'none'}"
        )
    for name in named:
        required = parameters[name].default is inspect.Parameter.empty
        if required and name not in keys and name != DIRECTORY:
            raise ConfigError(f"{path}.{name}: {target} needs it; add +{path}.{name}=...")


def _made(path: str, node: DictConfig, args: tuple[str, ...], kwargs: dict[str, str]) -> Logger:
    """The logger the node builds. Keys a target passes on unnamed (TensorBoardLogger's
    `**kwargs` to SummaryWriter) are checked by the call that takes them, which Lightning makes
    lazily: such a logger starts its experiment now, so a wrong key is refused before training."""
    from pytorch_lightning.loggers import Logger

    passed_on = not args and bool(_keys(node) - set(_parameters(node)))
    try:
        made = instantiate(node, *args, **kwargs)
        if passed_on and isinstance(made, Logger):
            getattr(made, "experiment", None)  # the property makes it
    except (InstantiationException, TypeError) as error:
        cause = error.__cause__ if isinstance(error, InstantiationException) else error
        if isinstance(cause, TypeError) and "unexpected keyword argument" in str(cause):
            raise ConfigError(f"{path}: {node['_target_']} refused a key: {cause}") from None
        raise
    if not isinstance(made, Logger):
        raise ConfigError(
            f"{path}: {node['_target_']} made a {type(made).__name__}, not a Lightning logger "
            "(a subclass of pytorch_lightning.loggers.Logger)"
        )
    return made
