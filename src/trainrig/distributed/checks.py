"""Checks that the strategy and devices asked for exist here, before any data is loaded.

Lightning finds most of these too, but late and in its own words (or, for more CPU processes
than cores, not at all); these name the key to change and the value that would work.
"""

from __future__ import annotations

import os
from typing import Any

from omegaconf import DictConfig
from torch import nn

from trainrig.config.errors import ConfigError
from trainrig.distributed.pipeline_split import stage_starts
from trainrig.models.tensor_parallel import sharding_plan

GPU_ONLY = {
    "trainrig.distributed.strategies.build_fsdp": "fsdp",
    "trainrig.distributed.strategies.build_deepspeed": "deepspeed",
}
MODEL_PARALLEL = "trainrig.distributed.strategies.build_model_parallel"
PIPELINE = "trainrig.distributed.strategies.build_pipeline"
GPU_NAMES = ("gpu", "cuda")


def _strategy_target(cfg: DictConfig) -> str:
    node = cfg.get("strategy")
    return str(node.get("_target_", "")) if node else ""


def requested_devices(devices: Any, available: int) -> int:
    """How many devices `trainer.devices` asks for: a count, -1/"auto" (all), or a list of ids."""
    if devices in (-1, "-1", "auto"):
        return available
    if isinstance(devices, str):
        return len([d for d in devices.split(",") if d.strip()]) if "," in devices else int(devices)
    if isinstance(devices, list | tuple) or hasattr(devices, "__len__"):
        return len(devices)
    return int(devices)


def check_devices(cfg: DictConfig) -> None:
    """The accelerator exists, the strategy runs on it, and there are `trainer.devices` of it."""
    import torch

    accelerator = str(cfg.trainer.accelerator)
    gpus = torch.cuda.device_count()
    target = _strategy_target(cfg)
    if target in GPU_ONLY:
        name = GPU_ONLY[target]
        if gpus == 0:
            raise ConfigError(
                f"strategy={name} runs on CUDA GPUs only and this machine has none: use "
                "strategy=ddp (data parallel, on CPUs too), or run on a machine with GPUs"
            )
        if accelerator not in GPU_NAMES:
            raise ConfigError(
                f"strategy={name} runs on CUDA GPUs only: set trainer.accelerator=gpu "
                f"(got {accelerator})"
            )
    if accelerator in GPU_NAMES and gpus == 0:
        raise ConfigError(
            f"trainer.accelerator={accelerator} but this machine has no CUDA GPU: use "
            "trainer.accelerator=cpu (or auto)"
        )
    if accelerator not in (*GPU_NAMES, "cpu", "auto"):
        return  # mps, tpu: Lightning checks its own
    on_gpu = accelerator in GPU_NAMES or (accelerator == "auto" and gpus > 0)
    if cfg.trainer.sync_batchnorm and not on_gpu:
        raise ConfigError(
            "trainer.sync_batchnorm=true: torch's SyncBatchNorm runs on CUDA GPUs only, and this "
            "run is on CPUs: set trainer.sync_batchnorm=false (each process then normalizes "
            "with its own batch statistics)"
        )
    available = gpus if on_gpu else os.cpu_count() or 1
    wanted = requested_devices(cfg.trainer.devices, available)
    if wanted > available:
        kind = "CUDA GPU" if on_gpu else "CPU core"
        raise ConfigError(
            f"trainer.devices={cfg.trainer.devices} asks for {wanted} devices but this machine "
            f"has {available} {kind}{'s' if available != 1 else ''}: set trainer.devices to at "
            f"most {available} (-1 takes all), or add machines with trainer.num_nodes"
        )
    processes = wanted * int(cfg.trainer.num_nodes)
    started = os.environ.get("WORLD_SIZE")  # set by torchrun (and by Lightning for its ranks)
    if started is not None and int(started) != processes:
        raise ConfigError(
            f"{started} processes were started (WORLD_SIZE) but trainer.devices x "
            f"trainer.num_nodes = {wanted} x {cfg.trainer.num_nodes} = {processes}: set "
            "trainer.devices to torchrun's --nproc_per_node and trainer.num_nodes to its --nnodes"
        )
    if target == PIPELINE:
        check_pipeline_sizes(cfg, processes)
    elif target != MODEL_PARALLEL:  # there, tensor-parallel processes share their batches
        check_global_batch(cfg, processes)


def _processes(cfg: DictConfig) -> int:
    import torch

    gpus = torch.cuda.device_count()
    on_gpu = str(cfg.trainer.accelerator) in GPU_NAMES or (
        str(cfg.trainer.accelerator) == "auto" and gpus > 0
    )
    available = gpus if on_gpu else os.cpu_count() or 1
    return requested_devices(cfg.trainer.devices, available) * int(cfg.trainer.num_nodes)


def check_pipeline_sizes(cfg: DictConfig, processes: int) -> None:
    """One stage per process, at least two, and a micro-batch for every part of a batch."""
    stages = cfg.strategy.get("stages", "auto")
    if processes < 2:  # a pipeline has two stages at least
        raise ConfigError(
            f"strategy=pipeline needs a process per stage, at least 2; trainer.devices x "
            f"trainer.num_nodes = {processes}: set trainer.devices=2 (CPU processes or GPUs)"
        )
    if stages != "auto" and int(stages) != processes:
        raise ConfigError(
            f"strategy.stages={stages} but trainer.devices x trainer.num_nodes = {processes} "
            "processes: every process is one stage (pipeline and data parallelism together "
            f"are not supported), so set trainer.devices={stages} or strategy.stages=auto"
        )
    if int(cfg.trainer.get("accumulate_grad_batches", 1) or 1) > 1:
        raise ConfigError(
            "strategy=pipeline runs each batch's backward pass in its own schedule step, which "
            "starts from zero gradients: set trainer.accumulate_grad_batches=1 and raise "
            "data.batch_size (with strategy.micro_batches) instead"
        )
    micro_batches = int(cfg.strategy.get("micro_batches", 1))
    batch_size = int(cfg.data.get("batch_size", micro_batches))
    if batch_size < micro_batches:
        raise ConfigError(
            f"strategy.micro_batches={micro_batches} cuts each batch of data.batch_size="
            f"{batch_size} into more parts than it has samples: set micro_batches <= {batch_size}"
        )


def check_global_batch(cfg: DictConfig, processes: int) -> None:
    """A global batch (batch_size_scope=global) gives every data-parallel process a sample."""
    batch_size = int(cfg.data.get("batch_size", processes))
    if cfg.get("batch_size_scope") == "global" and batch_size < processes:
        raise ConfigError(
            f"data.batch_size={batch_size} is the global batch (batch_size_scope=global) but "
            f"{processes} processes split it: set data.batch_size >= {processes}, or "
            "batch_size_scope=per_device"
        )


def check_sharding_plan(cfg: DictConfig, model: nn.Module) -> None:
    """strategy=model_parallel needs a model that says how its layers split across devices;
    strategy=pipeline one that cuts into as many consecutive stages as there are processes."""
    if _strategy_target(cfg) == PIPELINE:
        model_target = str(cfg.model.get("_target_", "?"))
        split_at = cfg.strategy.get("split_at")
        stage_starts(model, _processes(cfg), None if split_at is None else list(split_at),
                     model_target)  # fmt: skip
    if _strategy_target(cfg) == MODEL_PARALLEL and sharding_plan(model) is None:
        model_target = str(cfg.model.get("_target_", "?"))
        raise ConfigError(
            f"strategy=model_parallel: the model {model_target} has no tensor-parallel sharding "
            "plan (only an MLP without batch norm has one): use model=mlp "
            "model.batch_norm=false, or strategy=ddp (replicated) or strategy=fsdp (sharded "
            "whole, on GPUs)"
        )
