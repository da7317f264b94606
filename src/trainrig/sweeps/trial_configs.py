"""Each trial's job config: Hydra composes the trials' shared part once, the trial's values go on
top the way Hydra applies them.

Hydra composes every job from its files (defaults list, YAML, merges: about 150 ms per trial on
this project's configs). Value overrides (`optimizer.lr=0.01`, not `model=cnn`) play no part in
that: Hydra applies them to the composed config afterwards, in order. So when a job's overrides
end in value overrides, `TrialConfigLoader` composes the overrides before them once, and for each
job copies that config, applies the job's values with Hydra's own override code and records them
in `hydra.overrides.task` and `hydra.job.override_dirname` as Hydra would (`+key=v` and `++key=v`
of a key that is not a group are values too). Every other job (a group choice after a value,
`~key`, a `hydra.` key) goes through Hydra's full compose.
"""

from __future__ import annotations

import copy
import functools
import os
from typing import Any

from hydra.core.config_loader import ConfigLoader
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Override, OverrideType
from omegaconf import DictConfig, OmegaConf

Source = tuple[str, ...]  # a multirun's config name, then its Hydra overrides
# `key=v`, `+key=v`, `++key=v`: for a key that is not a config group, Hydra applies all three
# after composing (`_apply_overrides_to_config`); the sweeper adds its trial's pruning callback
# with `++callbacks.<name>={...}` last.
VALUE_TYPES = (OverrideType.CHANGE, OverrideType.ADD, OverrideType.FORCE_ADD)


class TrialConfigLoader(ConfigLoader):
    """Hydra's config loader, with a faster `load_sweep_config` for jobs that differ in values."""

    def __init__(self, loader: ConfigLoader) -> None:
        self.loader = loader
        # Keyed by what Hydra composes from (the multirun's config name and Hydra overrides) and
        # the job's overrides before its values, or an override's key for `_groups`.
        self._shared: dict[tuple[Source, tuple[str, ...]], DictConfig] = {}
        self._groups: dict[tuple[Source, str], bool] = {}  # whether the key names a config group

    def load_sweep_config(
        self, master_config: DictConfig, sweep_overrides: list[str]
    ) -> DictConfig:
        """The job config Hydra's `load_sweep_config` composes, built from a cached prefix when
        the job's last overrides only set values."""
        overrides = list(sweep_overrides)
        parsed = _parser().parse_overrides(overrides)
        source = (master_config.hydra.job.config_name, *master_config.hydra.overrides.hydra)
        split = len(parsed)
        while split and self._only_sets_a_value(source, parsed[split - 1]):
            split -= 1
        if split == len(parsed):
            return self.loader.load_sweep_config(master_config, overrides)
        prefix = (source, tuple(overrides[:split]))
        if prefix not in self._shared:
            self._shared[prefix] = self.loader.load_sweep_config(master_config, overrides[:split])
        config = copy.deepcopy(self._shared[prefix])
        _apply_values(config, parsed, split)
        OmegaConf.copy_cache(from_config=master_config, to_config=config)  # as Hydra does
        return config

    def _only_sets_a_value(self, source: Source, override: Override) -> bool:
        """Whether Hydra applies `override` after composing: `key=value` (or `+`, `++`) for a key
        that is not a config group (of the config name and Hydra overrides `source`)."""
        if (
            override.type not in VALUE_TYPES
            or override.package is not None
            or override.is_sweep_override()
            or override.is_hydra_override()
        ):
            return False
        key = (source, override.key_or_group)
        if key not in self._groups:
            config_name, *hydra_overrides = source
            options = self.loader.get_group_options(
                override.key_or_group,
                results_filter=None,
                config_name=config_name,
                overrides=hydra_overrides,
            )
            self._groups[key] = bool(options)
        return not self._groups[key]

    def load_configuration(self, *args: Any, **kwargs: Any) -> DictConfig:
        return self.loader.load_configuration(*args, **kwargs)

    def get_search_path(self) -> Any:
        return self.loader.get_search_path()

    def get_sources(self) -> Any:
        return self.loader.get_sources()

    def list_groups(self, parent_name: str) -> list[str]:
        return self.loader.list_groups(parent_name)

    def get_group_options(self, *args: Any, **kwargs: Any) -> list[str]:
        return self.loader.get_group_options(*args, **kwargs)

    def compute_defaults_list(self, *args: Any, **kwargs: Any) -> Any:
        return self.loader.compute_defaults_list(*args, **kwargs)


@functools.cache
def _parser() -> OverridesParser:
    return OverridesParser.create()


def _apply_values(config: DictConfig, parsed: list[Override], split: int) -> None:
    """Apply the value overrides `parsed[split:]` to `config` (composed from `parsed[:split]`) and
    record every override as Hydra's `_load_configuration_impl` does."""
    from hydra._internal.config_loader_impl import ConfigLoaderImpl, get_overrides_dirname

    values = parsed[split:]
    ConfigLoaderImpl._apply_overrides_to_config(values, config)
    config.hydra.overrides.task.extend([o.input_line for o in values])
    dirname = config.hydra.job.config.override_dirname
    task = [o for o in parsed if not o.is_hydra_override()]
    config.hydra.job.override_dirname = get_overrides_dirname(
        overrides=task,
        kv_sep=dirname.kv_sep,
        item_sep=dirname.item_sep,
        exclude_keys=dirname.exclude_keys,
    )
    config.hydra.runtime.cwd = os.getcwd()
