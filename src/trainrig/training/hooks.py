"""How features plug into the runner without the runner naming them (docs/architecture.md, "Hooks").

- Extra callbacks: every node under the config's `callbacks` mapping is instantiated by its
  `_target_` and joins the trainer's callbacks; the Optuna sweeper adds its trial's pruning
  callback there (a plain value override, so DDP ranks that compose the job again get it too).
  After fit, the runner calls `after_fit(trainer)` on every callback that has it (`AfterFit`):
  a pruned trial raises there, before the test.
- Compression: `cfg.compression` is instantiated once per run into a `CompressionMethod`; the
  runner calls `prepare` before fit, adds `callbacks` to the fit, and calls `compress` after
  the test, with a `CompressionRun` that says what of the run a method may use.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

if TYPE_CHECKING:
    import pytorch_lightning as pl
    from pytorch_lightning.callbacks import Callback


# (model, data, epochs) -> None: `epochs` more epochs on one device with the run's settings.
Finetune = Callable[["pl.LightningModule", Any, int], None]


@runtime_checkable
class AfterFit(Protocol):
    """A callback with something to say once fitting returns (e.g. "this trial was pruned")."""

    def after_fit(self, trainer: pl.Trainer) -> None:
        """Called by the runner after `trainer.fit`, before the test; may raise to end the run."""
        ...


@dataclass(frozen=True)
class CompressionRun:
    """What a compression method may use of the run it compresses."""

    run_dir: Path
    checkpoint_dir: Path  # where the run's checkpoints go (the compressed weights too)
    seed: int  # the run's seed (a distillation teacher trained first uses it)
    settings: dict[str, Any]  # the `compression` node, resolved, as the report records it
    finetune: Finetune
    task: Literal["train", "compress"]  # compress: a trained checkpoint, no training
    config: dict[str, Any] = field(default_factory=dict)  # the run's resolved config, as
    # checkpoints store it (a channel-pruned model's checkpoint needs it to be rebuilt)


class CompressionMethod(Protocol):
    """One `compression` option: prepare before fit, callbacks during fit, compress after test."""

    def prepare(self, classifier: pl.LightningModule, data: Any, run: CompressionRun) -> None:
        """Before any training: refuse (ConfigError) a model this cannot compress; may change
        the classifier (distillation attaches its teacher). trainrig's SupervisedModule, or a
        user's LightningModule for the methods marked `any_task`."""
        ...

    def callbacks(self, run: CompressionRun) -> list[Callback]:
        """Lightning callbacks the fit needs (iterative pruning's schedule); usually none."""
        ...

    def compress(
        self, classifier: pl.LightningModule, data: Any, run: CompressionRun
    ) -> dict[str, Any]:
        """After the test of the best checkpoint: compress, save, report before and after."""
        ...
