"""Hydra's composition errors, rewritten as one short line that names the way out."""

from __future__ import annotations

import os
import re

from trainrig.config.tree import EXPERIMENT_GROUP, USER_EXPERIMENTS_DIR

MISSING_OPTION = re.compile(r"Could not find '(?P<group>[\w/]+)/(?P<name>[^']*)'")
AVAILABLE = re.compile(r"Available options in '[^']*':\n((?:\t.*\n?)*)")
NOT_IN_STRUCT = re.compile(r"Could not override '(?P<key>[^']+)'")
SEARCH_SPACE_PREFIX = "hydra.sweeper.params."
HYDRA_GROUP_PREFIX = "hydra/"


OMEGACONF_TRAILER = re.compile(r"\n\s+(?:full_key|reference_type|object_type)[:=].*", re.DOTALL)
MERGING = "Error merging override "
GRAMMAR = "https://hydra.cc/docs/advanced/override_grammar/basic"


def unparsable_override(override: str, message: str) -> str:
    """One line for an override Hydra's grammar rejects, naming it and how to quote values."""
    return (
        f"cannot parse the override {override!r}: {message.splitlines()[0]}; quote a value "
        f"that holds special characters (key='a,b(c)'), see {GRAMMAR}"
    )


def short_message(message: str) -> str:
    """A one-line version of Hydra's message for unknown options and keys; others unchanged."""
    message = message.split("\nConfig search path:")[0].strip()
    message = OMEGACONF_TRAILER.sub("", message)
    if message.startswith(MERGING) and "\n" in message:  # the override, then why
        message = message.removeprefix(MERGING).replace("\n", ": ", 1)
    missing = MISSING_OPTION.search(message)
    if missing:
        group, name = missing["group"], missing["name"]
        available = AVAILABLE.search(message)
        options = available.group(1).split() if available else []
        choices = f"choose one of {', '.join(options)}" if options else "this group has no options"
        own = (
            f"./experiments/{name}.yaml" if group == "experiment" else f"./conf/{group}/{name}.yaml"
        )
        # `trainrig list` shows trainrig's groups; Hydra's own (hydra/sweeper/sampler, ...) are
        # in Hydra's help
        listing = (
            "`trainrig train --hydra-help` shows them"
            if group.startswith(HYDRA_GROUP_PREFIX)
            else f"`trainrig list {group}` shows them"
        )
        return f"{group}={name}: no such option; {choices} (or add your own as {own}; {listing})"
    unknown = NOT_IN_STRUCT.search(message)
    if unknown and "is not in struct" in message:
        key = unknown["key"]
        if key == EXPERIMENT_GROUP:
            return (
                f"{key}: there is no ./{USER_EXPERIMENTS_DIR} folder in {os.getcwd()}; "
                f"`trainrig train experiment=NAME` reads ./{USER_EXPERIMENTS_DIR}/NAME.yaml"
            )
        if key.startswith(SEARCH_SPACE_PREFIX):
            return (
                f"{key}: not in the search space yet; add a parameter with "
                f"+{key}=... (e.g. '+{SEARCH_SPACE_PREFIX}optimizer.lr=interval(1e-4,1e-1)')"
            )
        return (
            f"{key}: unknown key; `trainrig train --cfg job` shows the keys there are "
            f"(use +{key}=... only to add a key a builder accepts)"
        )
    return message


def override_below_null(error: BaseException) -> str | None:
    """One line for OmegaConf's AssertionError on `a.b=1` where `a` is null (it has no keys to
    set), naming the override and the null node; None for any other error. Both are locals of
    the frames that raised it: Hydra's `_apply_overrides_to_config` and `OmegaConf.update`."""
    if not isinstance(error, AssertionError) or not str(error).startswith("Unexpected type: None"):
        return None
    line, null_node = None, None
    traceback = error.__traceback__
    while traceback is not None:
        names = traceback.tb_frame.f_locals
        if traceback.tb_frame.f_code.co_name == "_apply_overrides_to_config":
            line = getattr(names.get("override"), "input_line", None)
        elif traceback.tb_frame.f_code.co_name == "update" and {"split", "i"} <= names.keys():
            null_node = ".".join(names["split"][: names["i"]])
        traceback = traceback.tb_next
    if line is None or not null_node:
        return None
    return (
        f"{line}: {null_node} is null, so it has no keys to set; set it whole instead, "
        f"e.g. '{null_node}={{key: value}}'"
    )


def bad_group_value(error: BaseException) -> str | None:
    """One line for Hydra's ValueError on a group set to a number, a null or a mapping
    (`model=0`); None for any other error."""
    if not isinstance(error, ValueError) or not str(error).startswith("Config group override"):
        return None
    return (
        f"{error}; a config group takes an option name, e.g. model=mlp (`trainrig list` shows them)"
    )


def override_below_list(error: BaseException) -> str | None:
    """One line for OmegaConf's error on `a.b=1` or `a.b.c=1` where `a` is a list (a ValueError
    from `int('b')`, or a TypeError "Index 'b' (str) is not an int"), naming the override and
    the list; None for any other error. Both are locals of the frames that raised it, as in
    `override_below_null`."""
    text = str(error)
    if not (
        (isinstance(error, ValueError) and text.startswith("invalid literal for int"))
        or (isinstance(error, TypeError) and text.endswith("(str) is not an int"))
    ):
        return None
    line, split, depth = None, None, None
    traceback = error.__traceback__
    while traceback is not None:
        names = traceback.tb_frame.f_locals
        if traceback.tb_frame.f_code.co_name == "_apply_overrides_to_config":
            line = getattr(names.get("override"), "input_line", None)
        elif traceback.tb_frame.f_code.co_name == "update" and "split" in names:
            split = names["split"]
            depth = names.get("i") if isinstance(error, TypeError) else len(split) - 1
        traceback = traceback.tb_next
    if line is None or not split or not depth:
        return None
    parent = ".".join(split[:depth])
    return (
        f"{line}: {parent} is a list, so it has no key {split[depth]!r}; set an item by its "
        f"index ({parent}.0=...) or the list whole ({parent}=[...])"
    )
