"""Where config options live (built-in, ./conf, ./experiments); listing them needs no Hydra."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


def _builtin_conf_dir() -> Path:
    """`trainrig/conf` inside an installed wheel, else the repository's top-level `conf/`.

    The wheel carries `conf/` as `trainrig/conf` (hatch `force-include`); an editable install runs
    from the source tree, where the options live in `conf/` beside `src/`.
    """
    package = Path(__file__).resolve().parents[1]
    in_wheel = package / "conf"
    return in_wheel if in_wheel.is_dir() else package.parents[1] / "conf"


BUILTIN_CONF_DIR = _builtin_conf_dir()
USER_CONF_DIR = "conf"
USER_EXPERIMENTS_DIR = "experiments"
EXPERIMENT_GROUP = "experiment"
# Groups a user selects; Hydra's own `hydra/...` groups are not trainrig options, nor the
# trainer options train.yaml applies after the experiment (`trainer/after_experiment`).
HIDDEN_GROUPS = frozenset({"hydra", "trainer/after_experiment"})


@dataclass(frozen=True)
class ConfigOption:
    """One selectable option: `group=name` on the command line, read from `path`."""

    group: str
    name: str
    path: Path
    source: str

    @property
    def description(self) -> str:
        """The first line of the option's leading comment block that is neither a header
        directive (`# @package ...`) nor the file's own name (`# experiments/NAME.yaml`): its
        one-line summary, wherever in the block it stands."""
        with self.path.open(encoding="utf-8") as f:
            for line in f:
                text = line.strip()
                if not text.startswith("#"):
                    if text:
                        break
                    continue
                text = text.lstrip("#").strip()
                if text and not text.startswith("@") and not self._names_itself(text):
                    return text
        return ""

    def _names_itself(self, text: str) -> bool:
        """Whether a comment line is only this file's name or path."""
        return " " not in text and text.endswith(self.path.name)


def user_conf_dir() -> Path | None:
    """The user's own config folder, `./conf` of the working directory.

    None when `./conf` is the built-in folder itself (running from trainrig's own repository), so
    its options are neither listed nor searched twice.
    """
    folder = Path(os.getcwd()) / USER_CONF_DIR
    return None if folder.resolve() == BUILTIN_CONF_DIR.resolve() else folder


def user_experiments_dir() -> Path:
    """The user's committed experiments, `./experiments` of the working directory."""
    return Path(os.getcwd()) / USER_EXPERIMENTS_DIR


def _options_in(root: Path | None, source: str) -> Iterator[ConfigOption]:
    if root is None or not root.is_dir():
        return
    for path in sorted(root.rglob("*.yaml")):
        relative = path.relative_to(root)
        group = "/".join(relative.parts[:-1])
        if not group or any(group == h or group.startswith(f"{h}/") for h in HIDDEN_GROUPS):
            continue  # primary configs (train.yaml) and hidden groups are not options
        yield ConfigOption(group=group, name=path.stem, path=path, source=source)


def iter_options(group: str | None = None) -> Iterator[ConfigOption]:
    """Every option of every group, built-in first, then the user's `./conf` and `./experiments`."""
    found = [
        *_options_in(BUILTIN_CONF_DIR, "built-in"),
        *_options_in(user_conf_dir(), USER_CONF_DIR),
    ]
    experiments = user_experiments_dir()
    if experiments.is_dir():
        found += [
            ConfigOption(EXPERIMENT_GROUP, p.stem, p, USER_EXPERIMENTS_DIR)
            for p in sorted(experiments.glob("*.yaml"))
        ]
    for option in found:
        if group is None or option.group == group:
            yield option


def group_names() -> list[str]:
    """Names of all option groups, sorted."""
    return sorted({option.group for option in iter_options()})
