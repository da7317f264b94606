"""A user's own LightningModule (task=lightning_module), given what trainrig supplies.

The contract (docs/your-own-code.md): the `model` node builds the module with its own arguments;
when the module does not define `configure_optimizers`, the config's optimizer and scheduler
are used (as for trainrig's own tasks); checkpoints, early stopping, loggers, the progress bar,
strategies, resume and sweeps work on the metrics it logs with `self.log`.
"""

from __future__ import annotations

import functools

import pytorch_lightning as pl
from hydra.utils import instantiate
from omegaconf import DictConfig
from pytorch_lightning.utilities.model_helpers import is_overridden

from trainrig.config.errors import ConfigError
from trainrig.training.optimizers import OptimizerFactory
from trainrig.training.schedules import build_constant
from trainrig.training.supervised import configured_optimizers


def user_module(cfg: DictConfig, optimizer: OptimizerFactory) -> pl.LightningModule:
    """The LightningModule of `cfg.model`, with the config's `optimizer` (and scheduler) where it
    configures none itself."""
    target = cfg.model.get("_target_")
    module = instantiate(cfg.model)
    if not isinstance(module, pl.LightningModule) and cfg.model.get("_partial_"):
        raise ConfigError(
            f"model._partial_: task=lightning_module builds your module with the node's own "
            f"arguments, but {target} is marked _partial_ (a builder waiting for the input shape "
            "and outputs): drop _partial_ for a LightningModule, or choose task=classification "
            "(or regression, multilabel) for an nn.Module builder"
        )
    if not isinstance(module, pl.LightningModule):
        raise ConfigError(
            f"model._target_: task=lightning_module needs a LightningModule, but {target} built "
            f"a {type(module).__name__}; for a plain nn.Module builder choose task=classification "
            "(or regression, multilabel)"
        )
    if cfg.get("augmentation"):
        raise ConfigError(
            "augmentation: trainrig's image augmentation works on its own tasks' (images, "
            "classes) batches; task=lightning_module trains on your module's batches: use "
            "augmentation=none (or augment in your data module)"
        )
    if cfg.get("compression") and not is_overridden("forward", module, pl.LightningModule):
        raise ConfigError(
            f"compression: {type(module).__name__} has no forward(); compression measures, "
            "quantizes and exports a module through forward(inputs): define it, or use "
            "compression=none"
        )
    monitored = [str(cfg.checkpoint.monitor)]
    if cfg.get("early_stopping"):
        monitored.append(str(cfg.early_stopping.monitor))
    for metric in monitored:
        if metric.startswith("val/") and not is_overridden("validation_step", module):
            raise ConfigError(
                f"checkpoint.monitor: {metric} is a validation metric, but "
                f"{type(module).__name__} has no validation_step; give it one that logs "
                f"{metric}, or monitor a training metric (checkpoint.monitor=train/loss)"
            )
    if not is_overridden("configure_optimizers", module, pl.LightningModule):
        scheduler = instantiate(cfg.scheduler) if cfg.get("scheduler") else build_constant
        lr_scaling = str(cfg.get("lr_scaling", "none"))
        # a partial, not a bound lambda: it pickles (ddp_spawn) and Lightning sees it defined
        module.configure_optimizers = functools.partial(  # type: ignore[method-assign,assignment]
            configured_optimizers, module, optimizer, scheduler, lr_scaling
        )
    return module
