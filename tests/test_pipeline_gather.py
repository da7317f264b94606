"""gather_on_first: 2 real processes over gloo; process 0 gets both states, process 1 nothing."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
import torch
import torch.multiprocessing as mp

from trainrig.distributed.pipeline_gather import gather_on_first


def _state(rank: int) -> dict[str, Any]:
    """An optimizer-like state: nested dicts, a tuple, numbers, and tensors of several kinds."""
    grid = torch.arange(12.0).reshape(3, 4) + 100 * rank
    return {
        f"layer{rank}.weight": {"exp_avg": grid.t(), "step": torch.tensor(3.0 + rank)},  # strided
        "groups": ([f"layer{rank}.weight"], {"lr": 0.1, "betas": (0.9, 0.999)}),
        "counts": torch.tensor([rank, 7], dtype=torch.int64),
    }


def _gather(rank: int, port: int, folder: Path) -> None:
    torch.distributed.init_process_group(
        "gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=2
    )
    try:
        gathered = gather_on_first(_state(rank), torch.device("cpu"))
        torch.save(gathered, folder / f"rank{rank}.pt")
    finally:
        torch.distributed.destroy_process_group()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _assert_same(got: Any, expected: Any) -> None:
    assert type(got) is type(expected)
    if isinstance(expected, torch.Tensor):
        assert got.dtype == expected.dtype
        torch.testing.assert_close(got, expected, rtol=0, atol=0)
    elif isinstance(expected, dict):
        assert list(got) == list(expected)
        for key in expected:
            _assert_same(got[key], expected[key])
    elif isinstance(expected, list | tuple):
        assert len(got) == len(expected)
        for a, b in zip(got, expected, strict=True):
            _assert_same(a, b)
    else:
        assert got == expected


@pytest.mark.slow  # 2 processes start and import torch: about 10 s
def test_process_0_gets_every_processes_state_and_the_others_get_none(tmp_path: Path) -> None:
    mp.spawn(_gather, args=(_free_port(), tmp_path), nprocs=2)
    first = torch.load(tmp_path / "rank0.pt", weights_only=True)
    assert torch.load(tmp_path / "rank1.pt", weights_only=True) is None
    assert len(first) == 2
    for rank, state in enumerate(first):
        _assert_same(state, _state(rank))
