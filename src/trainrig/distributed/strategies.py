"""Builders of the `strategy` group: Lightning's own strategies, configured from YAML.

Each returns what `pytorch_lightning.Trainer(strategy=...)` takes. Lightning and torch.distributed
do the distributing; these functions only turn config values into their arguments. Lightning is
imported inside each function, so composing and validating a config stays free of it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, Any, Literal

from annotated_types import Ge, Gt

from trainrig.config.errors import ConfigError
from trainrig.config.optional_packages import require_extra
from trainrig.config.signature import option

if TYPE_CHECKING:
    from pytorch_lightning.strategies import Strategy

# Layer kinds whose forward passes are recomputed in the backward pass when activation
# checkpointing is on: the layers that hold trainrig's models' activations.
CHECKPOINTED_LAYERS = ("Linear", "Conv2d")
Devices = Annotated[int | Literal["auto"], Ge(1)]


@option("strategy")
def named_strategy(name: Literal["auto", "ddp", "ddp_spawn"] = "auto") -> str:
    """A strategy Lightning knows by name: `auto` (one device here, DDP when devices > 1)."""
    return name


@option("strategy")
def build_ddp(
    start_method: Literal["popen", "spawn", "fork"] = "popen",
    find_unused_parameters: bool = False,
    process_group_backend: Literal["gloo", "nccl"] | None = None,
    timeout_minutes: Annotated[float, Gt(0)] = 30.0,
) -> Strategy:
    """Distributed data parallel: a process per device, gradients averaged at every step.

    `start_method` popen re-runs the command for ranks 1..N-1 (Lightning's `ddp`; the only one
    that also works under torchrun and SLURM, which start the processes themselves); spawn and
    fork start them from this process (`ddp_spawn`, `ddp_fork`).
    """
    from trainrig.distributed.ddp_strategy import DDPStrategyEndingItsGroup

    return DDPStrategyEndingItsGroup(
        start_method=start_method,
        find_unused_parameters=find_unused_parameters,
        process_group_backend=process_group_backend,
        timeout=timedelta(minutes=timeout_minutes),
    )


@option("strategy")
def build_fsdp(
    sharding_strategy: Literal["FULL_SHARD", "SHARD_GRAD_OP", "NO_SHARD", "HYBRID_SHARD"] = (
        "FULL_SHARD"
    ),
    cpu_offload: bool = False,
    activation_checkpointing: bool = False,
    min_params_to_wrap: Annotated[int, Ge(1)] = 100_000,
) -> Strategy:
    """Fully sharded data parallel (CUDA only): parameters, gradients and optimizer states sharded.

    Modules holding at least `min_params_to_wrap` parameters become their own FSDP unit;
    `activation_checkpointing` recomputes Linear and Conv2d activations in the backward pass.
    """
    from functools import partial

    from pytorch_lightning.strategies import FSDPStrategy
    from torch import nn
    from torch.distributed.fsdp.wrap import size_based_auto_wrap_policy

    layers = {getattr(nn, name) for name in CHECKPOINTED_LAYERS}
    return FSDPStrategy(
        sharding_strategy=sharding_strategy,
        cpu_offload=cpu_offload,
        auto_wrap_policy=partial(size_based_auto_wrap_policy, min_num_params=min_params_to_wrap),
        activation_checkpointing_policy=layers if activation_checkpointing else None,
        state_dict_type="full",  # one checkpoint file on rank 0, like every other strategy
    )


def deepspeed_installed_and_stage_3_offloads(
    stage: int, offload_parameters: bool, **_: Any
) -> None:
    """DeepSpeed is an extra; offloading parameters needs ZeRO stage 3."""
    require_extra("deepspeed", "deepspeed", "strategy=deepspeed")
    if offload_parameters and stage != 3:
        raise ConfigError(
            "strategy.offload_parameters needs ZeRO stage 3 (parameters are sharded only "
            f"there); got strategy.stage={stage}: set strategy.stage=3"
        )


@option("strategy", rule=deepspeed_installed_and_stage_3_offloads)
def build_deepspeed(
    stage: Literal[1, 2, 3] = 2,
    offload_optimizer: bool = False,
    offload_parameters: bool = False,
) -> Strategy:
    """DeepSpeed ZeRO (CUDA only; `pip install 'trainrig[deepspeed]'`): stage 1 shards optimizer
    states, 2 also gradients, 3 also parameters; offloading moves them to CPU memory."""
    from pytorch_lightning.strategies import DeepSpeedStrategy

    return DeepSpeedStrategy(
        stage=stage,
        offload_optimizer=offload_optimizer,
        offload_parameters=offload_parameters,
    )


def auto_or_devices(tensor_parallel_size: Any, data_parallel_size: Any) -> None:
    """Each size is 'auto' or a number of devices."""
    for key, value in (
        ("tensor_parallel_size", tensor_parallel_size),
        ("data_parallel_size", data_parallel_size),
    ):
        if value != "auto" and not isinstance(value, int):
            raise ConfigError(f"strategy.{key} is 'auto' or a number of devices; got {value!r}")


@option("strategy", rule=auto_or_devices)
def build_model_parallel(
    tensor_parallel_size: Devices = "auto",
    data_parallel_size: Devices = "auto",
) -> Strategy:
    """Tensor parallelism (Lightning's ModelParallelStrategy, DTensor): each layer of the model's
    sharding plan is split across the `tensor_parallel_size` devices of a group (all of a node's
    by default); `data_parallel_size` groups (one per node by default) split the data.

    Checkpoints are gathered into one file on rank 0, like every other strategy's.
    """
    from pytorch_lightning.strategies import ModelParallelStrategy

    return ModelParallelStrategy(
        tensor_parallel_size=tensor_parallel_size,
        data_parallel_size=data_parallel_size,
        save_distributed_checkpoint=False,
    )


def stages_and_cuts(stages: Any, micro_batches: int, schedule: str, **_: Any) -> None:
    """1F1B keeps every stage busy only with at least as many micro-batches as stages."""
    if stages != "auto" and not isinstance(stages, int):
        raise ConfigError(f"strategy.stages is 'auto' or a number of stages; got {stages!r}")
    if schedule == "1f1b" and isinstance(stages, int) and micro_batches < stages:
        raise ConfigError(
            f"strategy.schedule=1f1b needs strategy.micro_batches >= strategy.stages "
            f"({micro_batches} < {stages}): raise micro_batches, or use schedule=gpipe"
        )


@option("strategy", rule=stages_and_cuts)
def build_pipeline(
    stages: Devices = "auto",
    micro_batches: Annotated[int, Ge(1)] = 4,
    schedule: Literal["gpipe", "1f1b"] = "gpipe",
    split_at: list[str] | None = None,
    process_group_backend: Literal["gloo", "nccl"] | None = None,
    timeout_minutes: Annotated[float, Gt(0)] = 30.0,
) -> Strategy:
    """Pipeline parallelism (torch.distributed.pipelining): the model's consecutive layers cut into
    `stages` (one per process, all of them by default), each batch streamed through them in
    `micro_batches` (`schedule` gpipe: all forwards then all backwards; 1f1b: interleaved, less
    activation memory). The cuts are at the `split_at` layers (each stage's first) or balanced by
    parameter count. No data parallelism alongside: every process is one stage.
    """
    from trainrig.distributed.pipeline_strategy import PipelineStrategy

    return PipelineStrategy(
        micro_batches=micro_batches,
        schedule=schedule,
        split_at=split_at,
        process_group_backend=process_group_backend,
        timeout=timedelta(minutes=timeout_minutes),
    )
