"""strategy=pipeline: the model's consecutive layers on different processes, micro-batches
streamed through them by torch's own `torch.distributed.pipelining` schedules.

Lightning has no pipeline strategy, so this one is Lightning's DDP (its launcher, process group
and rank-0 checkpoint writing), with the model handling replaced:

- at setup, the module's `nn.Sequential` is cut into stages (pipeline_split.py); process k keeps
  stage k's layers, under their names in the whole model, and moves the others to the meta
  device (no memory); the optimizer sees only its own layers' parameters;
- the model's forward runs the schedule: a training step is `schedule.step` (forward and backward
  of every micro-batch; Lightning's own backward call does nothing), evaluation is
  `schedule.eval`; the last stage's outputs are broadcast, so every process computes the same
  loss and metrics as one process would (every process sees the whole batch: data parallel
  size 1);
- checkpoints gather every stage's weights and optimizer state into the ordinary one-process
  format on rank 0 only (pipeline_gather.py): no other process ever holds more than its own
  stage's state; after each validate or test rank 0's module holds the whole model again.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any, Literal

import pytorch_lightning as pl
import torch
from pytorch_lightning.trainer.states import TrainerFn
from torch import Tensor, nn
from torch.optim import Optimizer

from trainrig.config.errors import ConfigError
from trainrig.distributed.ddp_strategy import DDPStrategyEndingItsGroup
from trainrig.distributed.pipeline_gather import gather_on_first
from trainrig.distributed.pipeline_optimizer import gather_optimizer_state, local_optimizer_state
from trainrig.distributed.pipeline_split import stage_layers, stage_starts

log = logging.getLogger(__name__)


class StageRunner(nn.Module):
    """One process's layers of the model (named as in the whole model), whose forward runs the
    pipeline: the input on the first stage, the whole model's output on every stage."""

    def __init__(
        self,
        layers: Sequence[tuple[str, nn.Module]],
        others: Sequence[str],
        run: Callable[[Tensor], Tensor],
    ) -> None:
        super().__init__()
        for name, layer in layers:
            self.add_module(name, layer)
        self.others = tuple(others)  # the other stages' layer names
        self.run = run
        self.register_load_state_dict_pre_hook(self._drop_other_stages)

    def forward(self, x: Tensor) -> Tensor:
        return self.run(x)

    @staticmethod
    def _drop_other_stages(
        module: nn.Module, state_dict: dict[str, Any], prefix: str, *args: Any
    ) -> None:
        """Load this stage's part of a whole model's state: the other stages' keys are dropped
        from the (copied) state this module is given, so they are not unexpected keys."""
        assert isinstance(module, StageRunner)
        theirs = tuple(f"{prefix}{name}." for name in module.others)
        for key in [k for k in state_dict if k.startswith(theirs)]:
            del state_dict[key]


class PipelineStrategy(DDPStrategyEndingItsGroup):
    """Pipeline parallelism over `trainer.devices` x `trainer.num_nodes` processes, one stage
    each, on Lightning's DDP launch (popen: the command re-run per rank, or torchrun/Slurm)."""

    def __init__(
        self,
        micro_batches: int,
        schedule: Literal["gpipe", "1f1b"],
        split_at: Sequence[str] | None,
        process_group_backend: str | None,
        timeout: timedelta,
    ) -> None:
        super().__init__(
            start_method="popen", process_group_backend=process_group_backend, timeout=timeout
        )
        self.micro_batches = micro_batches
        self.schedule_name = schedule
        self.split_at = list(split_at) if split_at is not None else None
        self._whole: nn.Sequential | None = None  # the module's model, its other stages on meta
        self._names: list[str] = []  # the whole model's parameter names, in its order
        self._schedules: dict[int, Any] = {}  # by batch size: a stage's buffers have one shape
        self._target: Tensor | None = None  # the batch's targets, during a step
        self._training_step = False
        self._gradients: list[tuple[Tensor, Tensor | None]] = []
        self._failed = False

    @property
    def distributed_sampler_kwargs(self) -> dict[str, Any]:
        """Every stage sees the whole batch: one data-parallel replica."""
        return {"num_replicas": 1, "rank": 0}

    @property
    def restore_checkpoint_after_setup(self) -> bool:
        """Checkpoints (whole models) are loaded into the stages once they are cut."""
        return True

    def setup(self, trainer: pl.Trainer) -> None:
        """Cut the model, place this stage on its device, build the schedule and optimizer."""
        assert self.accelerator is not None
        self.accelerator.setup(trainer)
        self._cut()
        assert self.model is not None
        self.precision_plugin.convert_module(self.model)
        self.model_to_device()
        self._schedules = {}  # built per batch size, at its first batch
        if trainer.state.fn == TrainerFn.FITTING:
            self.setup_optimizers(trainer)
        self.setup_precision_plugin()

    def _module(self) -> Any:
        from trainrig.training.supervised import SupervisedModule

        module = self.lightning_module
        if not isinstance(module, SupervisedModule):
            raise ConfigError(
                "strategy=pipeline cuts the `model` of trainrig's built-in tasks; a user's own "
                "LightningModule is trained whole: use strategy=ddp"
            )
        if module.distiller is not None:
            raise ConfigError(
                "strategy=pipeline computes only the task's loss on the last stage; distillation "
                "needs the teacher's outputs there too: train with strategy=ddp"
            )
        return module

    def _cut(self) -> None:
        module = self._module()
        if self._whole is None:
            whole = module.model
            # rank 0's initial weights on every stage, as DDP does (the ranks' random states
            # need not agree: each composed and built the run on its own)
            for tensor in module.state_dict().values():
                torch.distributed.broadcast(tensor, src=0)
            self._starts = stage_starts(whole, self.world_size, self.split_at)
            self._names = [name for name, _ in module.named_parameters()]
            self._whole = whole
        local = stage_layers(self._whole, self._starts, self.global_rank)
        mine = {id(layer) for _, layer in local}
        for layer in self._whole.children():
            if id(layer) not in mine:
                layer.to("meta")  # another stage's: its memory is freed here
        others = [name for name, layer in self._whole.named_children() if id(layer) not in mine]
        module.model = StageRunner(local, others, self._run)
        log.info(
            "pipeline stage %d of %d: layers %s, %d parameters",
            self.global_rank, self.world_size, ",".join(name for name, _ in local),
            sum(p.numel() for p in module.model.parameters()),
        )  # fmt: skip

    def _schedule_for(self, batch: int) -> Any:
        """The schedule for batches of `batch` samples. A stage sizes its receive buffers from
        its first micro-batch, so micro-batches must be of one size and a batch of another size
        (an epoch's last, smaller one) gets its own stage and schedule over the same layers: in
        as many equal micro-batches as divide it, at most `micro_batches` (57 samples: 3 of 19;
        GPipe's order where 1F1B needs more micro-batches than that)."""
        from torch.distributed.pipelining import PipelineStage, Schedule1F1B, ScheduleGPipe

        if batch in self._schedules:
            return self._schedules[batch]
        module = self._module()
        stage = PipelineStage(
            nn.Sequential(OrderedDict(module.model.named_children())),
            stage_index=self.global_rank,
            num_stages=self.world_size,
            device=self.root_device,
        )
        parts = max(n for n in range(1, self.micro_batches + 1) if batch % n == 0)
        gpipe = self.schedule_name == "gpipe" or parts < self.world_size
        kind = ScheduleGPipe if gpipe else Schedule1F1B

        def loss(output: Tensor, target: Tensor) -> Tensor:
            if self._target is None:  # predicting: nothing to compare with
                return output.new_zeros(())
            return module.task.loss(module.output_scale(output), target)  # type: ignore[no-any-return]

        self._schedules[batch] = kind(stage, n_microbatches=parts, loss_fn=loss)
        return self._schedules[batch]

    def _run(self, x: Tensor) -> Tensor:
        """The whole model's output for `x`, through the pipeline; the same on every stage."""
        first, last = self.global_rank == 0, self.global_rank == self.world_size - 1
        inputs = (x,) if first else ()
        target = self._target
        if target is None:  # predicting: a stand-in target, its loss not computed (_loss)
            target = torch.zeros(len(x), device=x.device)
        if self._training_step and torch.is_grad_enabled():
            # Lightning zeroes the gradients between the training step and its backward call,
            # so the last step's are still there now (the schedule would add to them), and
            # the schedule's are kept aside until that backward call (`backward`)
            assert self.lightning_module is not None
            parameters = list(self.lightning_module.parameters())
            for parameter in parameters:
                parameter.grad = None
            output = self._schedule_for(len(x)).step(*inputs, target=target)
            self._gradients = [(p, p.grad) for p in parameters]
            for parameter in parameters:
                parameter.grad = None
        else:
            output = self._schedule_for(len(x)).eval(*inputs, target=target)
        box = [output.detach().cpu() if last else None]
        torch.distributed.broadcast_object_list(box, src=self.world_size - 1)
        assert isinstance(box[0], Tensor)
        return box[0].to(x.device)

    def _with_target(self, hook: Callable[..., Any], args: Any, kwargs: Any, training: bool) -> Any:
        batch = args[0] if args else kwargs["batch"]
        self._target, self._training_step = batch[1], training
        try:
            return hook(*args, **kwargs)
        finally:
            self._target, self._training_step = None, False

    def training_step(self, *args: Any, **kwargs: Any) -> Any:
        """The module's step, its forward a pipeline step that also ran the backward pass."""
        return self._with_target(super().training_step, args, kwargs, training=True)

    def validation_step(self, *args: Any, **kwargs: Any) -> Any:
        return self._with_target(super().validation_step, args, kwargs, training=False)

    def test_step(self, *args: Any, **kwargs: Any) -> Any:
        return self._with_target(super().test_step, args, kwargs, training=False)

    def backward(
        self, closure_loss: Tensor, optimizer: Optimizer | None, *args: Any, **kwargs: Any
    ) -> Tensor:
        """No backward pass: the schedule's step ran it; its gradients are put back in place."""
        for parameter, gradient in self._gradients:
            parameter.grad = gradient
        self._gradients = []
        return closure_loss

    def lightning_module_state_dict(self) -> dict[str, Any]:
        """The whole module's state (every stage's layers) on process 0, which writes the
        checkpoint; on the others their stage's own (Lightning saves process 0's only)."""
        assert self.lightning_module is not None
        local = self.lightning_module.state_dict()
        return self._on_first(local) or local

    def best_module_state(self) -> dict[str, Tensor]:
        """A copy of the module's state for early stopping's best weights: the whole module's on
        process 0 (its checkpoints keep them), this stage's own on the others (all that loading
        them at the end of fitting needs there). A collective."""
        assert self.lightning_module is not None
        state = self.lightning_module.state_dict()
        local = {k: v.detach().to("cpu", copy=True) for k, v in state.items()}
        return self._on_first(local) or local

    def kept_part(self, state: dict[str, Tensor]) -> dict[str, Tensor]:
        """What this process keeps of a whole module's state (a resumed checkpoint's best
        weights): all of it on process 0, this stage's own part on the others."""
        if self.global_rank == 0:
            return state
        assert self.lightning_module is not None
        return {k: state[k] for k in self.lightning_module.state_dict()}

    def _on_first(self, local: dict[str, Any]) -> dict[str, Any] | None:
        """The stages' `local` states merged on process 0; None on the others. A collective."""
        states = gather_on_first(local, self._sending_device())
        if states is None:
            return None
        whole: dict[str, Any] = {}
        for state in states:
            whole |= state
        return whole

    def _sending_device(self) -> torch.device:
        """Where tensors are sent from: the GPU for NCCL, the CPU for gloo."""
        nccl = torch.distributed.get_backend() == torch.distributed.Backend.NCCL
        return self.root_device if nccl else torch.device("cpu")

    def optimizer_state(self, optimizer: Optimizer) -> dict[str, Any]:
        """The optimizer state of the whole model on process 0, as one process's optimizer
        would hold it; this stage's own on the others."""
        assert self.lightning_module is not None
        return gather_optimizer_state(
            optimizer, self.lightning_module, self._names, self._sending_device()
        )

    def load_optimizer_state_dict(self, checkpoint: Mapping[str, Any]) -> None:
        """This stage's part of the whole model's optimizer state."""
        assert self.lightning_module is not None
        for optimizer, whole in zip(self.optimizers, checkpoint["optimizer_states"], strict=True):
            optimizer.load_state_dict(
                local_optimizer_state(optimizer, self.lightning_module, whole)
            )

    def on_exception(self, exception: BaseException) -> None:
        self._failed = True  # the other processes may be gone: no gathering at teardown
        super().on_exception(exception)

    def teardown(self) -> None:
        """After validating or testing, leave the whole model in the module again: on process 0
        with every stage's weights (for the summary, compression and export, which run there),
        on the others with the other stages' layers still on the meta device (their parameters
        counted, not held). After fitting the stages stay: callbacks' `on_fit_end` (early
        stopping's best weights) runs after this and works on this stage's state."""
        module = self.lightning_module
        trainer = getattr(module, "_trainer", None)
        fitting = trainer is not None and trainer.state.fn == TrainerFn.FITTING
        if module is None or self._whole is None or self._failed or fitting:
            self._schedules = {}
            super().teardown()
            return
        whole = self._on_first(module.state_dict())  # None but on process 0
        self._schedules = {}
        super().teardown()  # the module to the CPU: before the other stages' meta layers join it
        module.model = self._whole
        if whole is not None:
            for layer in self._whole.children():
                if any(t.is_meta for t in (*layer.parameters(), *layer.buffers())):
                    layer.to_empty(device="cpu")  # another stage's
            module.load_state_dict(whole)
