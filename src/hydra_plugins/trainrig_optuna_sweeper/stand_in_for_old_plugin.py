"""Answers hydra-optuna-sweeper's `_target_` when that plugin is not installed (Hydra scans this
module after optuna_sweeper.py, so that one is imported once).

lightning-hydra-template's sweep configs write `_target_:
hydra_plugins.hydra_optuna_sweeper.optuna_sweeper.OptunaSweeper`. Hydra instantiates a plugin by
its registered class name and imports that name, so a subclass of trainrig's sweeper takes it,
and stand-in modules of that name (no files, nothing else in them) make it importable. Creating
it logs a one-line deprecation note.
"""

import logging
import sys
from types import ModuleType
from typing import Any

from .optuna_sweeper import (
    OLD_PACKAGE,
    OptunaSweeper,
    old_plugin_installed,
)

OLD_MODULE = f"{OLD_PACKAGE}.optuna_sweeper"
log = logging.getLogger(__name__)


class OldPluginSweeper(OptunaSweeper):
    """trainrig's sweeper under hydra-optuna-sweeper's class name."""

    def __init__(self, **settings: Any) -> None:
        log.warning(
            "hydra.sweeper._target_: %s.OptunaSweeper is hydra-optuna-sweeper's (deprecated); "
            "trainrig's sweeper runs it: drop the _target_ line",
            OLD_MODULE,
        )
        super().__init__(**settings)


def _stand_in(name: str, **members: Any) -> ModuleType:
    module = ModuleType(name, "trainrig's stand-in for hydra-optuna-sweeper's name")
    module.__dict__.update(TRAINRIG_STAND_IN=True, **members)
    sys.modules[name] = module
    return module


if old_plugin_installed():
    del OldPluginSweeper  # the real plugin answers its own name (optuna_sweeper.py warns)
else:
    OldPluginSweeper.__module__ = OLD_MODULE
    OldPluginSweeper.__name__ = OldPluginSweeper.__qualname__ = "OptunaSweeper"
    _module = _stand_in(OLD_MODULE, OptunaSweeper=OldPluginSweeper)
    _stand_in(OLD_PACKAGE, __path__=[], optuna_sweeper=_module)
