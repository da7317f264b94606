"""OmegaConf resolvers trainrig's configs use; registered once by the CLI (and by tests)."""

from __future__ import annotations

import secrets

from omegaconf import OmegaConf


def register_resolvers() -> None:
    """Register `${trainrig.uid:}`: a random 8-hex-digit id, fixed once resolved in a config.

    Run directories end with it, so jobs started in the same second never share a directory.
    """
    if not OmegaConf.has_resolver("trainrig.uid"):
        OmegaConf.register_new_resolver(
            "trainrig.uid", lambda: secrets.token_hex(4), use_cache=True
        )
