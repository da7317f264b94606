"""Batches split across data-parallel processes (together they are one process's batches),
sharding plans, and the Lightning strategies the `strategy` options build."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hydra.utils import instantiate
from omegaconf import DictConfig
from torch import nn

from trainrig.data.sharded_batches import ShardedBatches
from trainrig.models.mlp import build_mlp
from trainrig.models.tensor_parallel import sharding_plan


def _shares(samples: int, batch: int, training: bool, replicas: int) -> list[list[list[int]]]:
    """Each process's batches, for the same epoch."""
    return [
        list(ShardedBatches(samples, batch, training, training, 7, replicas, rank))
        for rank in range(replicas)
    ]


@pytest.mark.parametrize("replicas", [2, 3, 4])
@pytest.mark.parametrize("samples", [64, 100, 101])
def test_every_step_the_processes_hold_exactly_one_processs_batch(
    replicas: int, samples: int
) -> None:
    (alone,) = _shares(samples, 16, True, 1)
    together = _shares(samples, 16, True, replicas)
    for step, batch in enumerate(alone):
        if len(batch) < replicas:  # a tail too small for every process is dropped
            assert all(len(batches) == step for batches in together)
            break
        joined = [index for batches in together for index in batches[step]]
        assert joined == batch
    assert all(len(batches) == len(together[0]) for batches in together)  # same step count


@pytest.mark.parametrize("replicas", [1, 2, 3, 7])
def test_evaluation_counts_every_sample_once_without_padding(replicas: int) -> None:
    together = _shares(101, 32, False, replicas)
    seen = sorted(index for batches in together for batch in batches for index in batch)
    assert seen == list(range(101))
    for rank, batches in enumerate(together):
        sampler = ShardedBatches(101, 32, False, False, 7, replicas, rank)
        assert len(sampler) == len(batches)


def test_each_epoch_has_its_own_order_and_the_same_epoch_the_same() -> None:
    sampler = ShardedBatches(50, 10, True, True, seed=3)
    first = list(sampler)
    sampler.set_epoch(1)
    second = list(sampler)
    sampler.set_epoch(0)
    assert list(sampler) == first != second


def test_only_a_stack_of_linear_and_elementwise_layers_has_a_sharding_plan() -> None:
    plain = build_mlp((1, 8, 8), 10, hidden_sizes=(32, 16), batch_norm=False)
    assert sharding_plan(plain) == {"1": "colwise", "4": "rowwise"}  # the head stays whole
    assert sharding_plan(build_mlp((1, 8, 8), 10, hidden_sizes=(32,), batch_norm=False)) == {
        "1": "colwise",
        "4": "rowwise",
    }
    assert sharding_plan(build_mlp((1, 8, 8), 10, batch_norm=True)) is None
    assert sharding_plan(nn.Sequential(nn.Conv2d(1, 4, 3), nn.Flatten(), nn.Linear(4, 2))) is None


@pytest.mark.parametrize(
    ("option", "kind"),
    [
        ("ddp", "DDPStrategy"),
        ("ddp_spawn", "DDPStrategy"),
        ("fsdp", "FSDPStrategy"),
        ("model_parallel", "ModelParallelStrategy"),
    ],
)
def test_every_strategy_option_builds_its_lightning_strategy(
    option: str, kind: str, compose_train: Callable[..., DictConfig]
) -> None:
    from pytorch_lightning import strategies

    strategy = instantiate(compose_train(f"strategy={option}").strategy)
    assert isinstance(strategy, getattr(strategies, kind))
