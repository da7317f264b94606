"""Adds the user's `./conf` and `./experiments` to trainrig's config search path, and reads
option files so that every key of an option's builder is in the composed config.

Hydra discovers these classes because they live in the `hydra_plugins` namespace. They act only on
trainrig's own apps, never on another Hydra app installed beside it.
"""

from __future__ import annotations

import copy
import os
import re

from hydra._internal.core_plugins.file_config_source import FileConfigSource
from hydra.core.config_search_path import ConfigSearchPath
from hydra.core.object_type import ObjectType
from hydra.plugins.config_source import ConfigLoadError, ConfigResult, ConfigSource
from hydra.plugins.search_path_plugin import SearchPathPlugin

from trainrig.config.tree import (
    BUILTIN_CONF_DIR,
    EXPERIMENT_GROUP,
    user_conf_dir,
    user_experiments_dir,
)

EXPERIMENTS_SCHEME = "trainrig-experiments"
HEADER_LINE = re.compile(r"#\s*@")  # as Hydra's ConfigSource._get_header_dict tells them
OPTIONS_SCHEME = "trainrig-options"


def _is_builtin_conf(path: str | None) -> bool:
    """Whether a search-path entry is trainrig's built-in options (`file://DIR` or a bare DIR)."""
    if not path or ("://" in path and not path.startswith("file://")):
        return False
    return os.path.realpath(path.removeprefix("file://")) == os.path.realpath(BUILTIN_CONF_DIR)


class TrainrigSearchPathPlugin(SearchPathPlugin):
    """Puts `./conf` before the built-in options (a user's file wins) and `./experiments` after."""

    def manipulate_search_path(self, search_path: ConfigSearchPath) -> None:
        builtin = [e for e in search_path.get_path() if _is_builtin_conf(e.path)]
        if not builtin:
            return
        for element in builtin:
            element.path = f"{OPTIONS_SCHEME}://{BUILTIN_CONF_DIR}"
        user_conf = user_conf_dir()
        if user_conf is not None:
            search_path.prepend(
                provider="trainrig-user-conf", path=f"{OPTIONS_SCHEME}://{user_conf}"
            )
        search_path.append(
            provider="trainrig-experiments",
            path=f"{EXPERIMENTS_SCHEME}://{user_experiments_dir()}",
        )


class ExperimentsConfigSource(ConfigSource):
    """Serves `DIR/NAME.yaml` as option NAME of the `experiment` group (`experiment=NAME`)."""

    @staticmethod
    def scheme() -> str:
        return EXPERIMENTS_SCHEME

    def _inner(self, config_path: str) -> str | None:
        """Path inside DIR for a group path like `experiment/NAME`; None outside the group."""
        if config_path == EXPERIMENT_GROUP:
            return ""
        if config_path.startswith(EXPERIMENT_GROUP + "/"):
            return config_path[len(EXPERIMENT_GROUP) + 1 :]
        return None

    def _full_path(self, inner: str) -> str:
        return os.path.join(self.path, inner)

    def available(self) -> bool:
        return os.path.isdir(self.path)

    def load_config(self, config_path: str) -> ConfigResult:
        from omegaconf import OmegaConf

        inner = self._inner(_with_yaml_suffix(config_path))
        full_path = self._full_path(inner) if inner else ""
        if not inner or not os.path.isfile(full_path):
            raise ConfigLoadError(f"Config not found : {config_path}")
        with open(full_path, encoding="utf-8") as f:
            header = leading_header(f.read())
            f.seek(0)
            config = OmegaConf.load(f)
        return ConfigResult(
            config=config, path=self.full_path(), provider=self.provider, header=header
        )

    def is_group(self, config_path: str) -> bool:
        if config_path == "":
            return self.available()
        return config_path == EXPERIMENT_GROUP and self.available()

    def is_config(self, config_path: str) -> bool:
        inner = self._inner(_with_yaml_suffix(config_path))
        return bool(inner) and os.path.isfile(self._full_path(inner or ""))

    def list(self, config_path: str, results_filter: ObjectType | None) -> list[str]:
        if not self.available():
            return []
        if config_path == "":
            wants_groups = results_filter in (None, ObjectType.GROUP)
            return [EXPERIMENT_GROUP] if wants_groups else []
        if config_path != EXPERIMENT_GROUP or results_filter == ObjectType.GROUP:
            return []
        names = os.listdir(self.path)
        return sorted(n[: -len(".yaml")] for n in names if n.endswith(".yaml"))


def leading_header(text: str) -> dict[str, str | None]:
    """The `# @KEY VALUE` lines anywhere in a file's leading comment block, read as Hydra reads a
    header. Hydra's own reader stops at the first comment line that is not such a line, so a file
    that begins by naming itself (`# experiments/wide_cnn.yaml`, then `# @package _global_`)
    would lose its package and fail to compose."""
    directives = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            break
        if HEADER_LINE.match(stripped):
            directives.append(stripped)
    return ConfigSource._get_header_dict("\n".join(directives))


def _with_yaml_suffix(config_path: str) -> str:
    """`config_path` ending in `.yaml`, as Hydra names a config file (version_base 1.2 and later
    read no `.yml`)."""
    return config_path if config_path.endswith(".yaml") else config_path + ".yaml"


class OptionsConfigSource(FileConfigSource):
    """Option files as written, plus each `@option` builder's keys at their defaults: a YAML
    option states only what it chooses, and `--cfg job` and `key=value` overrides see every key.
    A command's config (train.yaml, ...) gets its top-level keys the same way."""

    @staticmethod
    def scheme() -> str:
        return OPTIONS_SCHEME

    def load_config(self, config_path: str) -> ConfigResult:
        from trainrig.config.option_defaults import with_defaults, with_run_keys

        full_path = os.path.realpath(os.path.join(self.path, _with_yaml_suffix(config_path)))
        try:
            stat = os.stat(full_path)
        except OSError:
            return super().load_config(config_path)  # Hydra's own "Config not found"
        key = (full_path, stat.st_mtime_ns, stat.st_size)
        loaded = _LOADED.get(key)
        if loaded is None:
            loaded = super().load_config(config_path)
            with open(full_path, encoding="utf-8") as f:
                loaded.header = leading_header(f.read())
            name = config_path.removesuffix(".yaml")
            loaded.config = with_run_keys(with_defaults(loaded.config), name)  # type: ignore[arg-type]
            _LOADED[key] = loaded
        # a copy: Hydra edits the configs it loads (it removes their defaults lists)
        return ConfigResult(
            config=copy.deepcopy(loaded.config),
            path=loaded.path,
            provider=loaded.provider,
            header=dict(loaded.header),
            is_schema_source=loaded.is_schema_source,
        )


# Option files as filled, by real path, modification time and size: a sweep composes one config
# per trial from the same files, and filling them with their builders' defaults is the slow part.
_LOADED: dict[tuple[str, int, int], ConfigResult] = {}
