"""OmegaConf resolvers trainrig's configs use; registered once by the CLI (and by tests)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from omegaconf import OmegaConf

from trainrig.distributed.external_launch import launched_rank, shared_run_name


def register_resolvers() -> None:
    """Register trainrig's resolvers (each once per process).

    - `${trainrig.uid:}`: a random 8-hex-digit id, fixed once resolved in a config. Run
      directories end with it, so jobs started in the same second never share a directory.
    - `${trainrig.same_on_all_ranks:NAME}`: NAME, or under torchrun/srun the name all ranks of the
      launch agree on (`external_launch.shared_run_name`), since each rank composes its own config.
    - `${trainrig.rank_suffix:}`: `_rank_N` in a process torchrun/srun started as rank N > 0, else
      empty; it keeps such a rank's log file apart from rank 0's.
    - `${trainrig.on_rank_zero:VALUE}`: VALUE, or null in such a rank N > 0 (`hydra.output_subdir`:
      only rank 0 saves Hydra's `.hydra/` files).
    """
    resolvers: dict[str, Callable[..., Any]] = {
        "trainrig.uid": lambda: secrets.token_hex(4),
        "trainrig.same_on_all_ranks": shared_run_name,
        "trainrig.rank_suffix": _rank_suffix,
        "trainrig.on_rank_zero": _on_rank_zero,
    }
    for name, resolver in resolvers.items():
        if not OmegaConf.has_resolver(name):
            OmegaConf.register_new_resolver(name, resolver, use_cache=True)


def _rank_suffix() -> str:
    rank = launched_rank()
    return f"_rank_{rank}" if rank else ""


def _on_rank_zero(value: str) -> str | None:
    return value if launched_rank() == 0 else None
