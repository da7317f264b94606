"""`trainrig predict`: a checkpoint's predictions for a split of its data or for new inputs,
written as a CSV (one row per sample: its id, target where known, prediction, probabilities)."""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from omegaconf import DictConfig
from pytorch_lightning.utilities.model_helpers import is_overridden
from torch import Tensor
from torch.utils.data import DataLoader, Dataset, TensorDataset

from trainrig.config.errors import ConfigError
from trainrig.data.new_inputs import NewInputs, read_new_inputs
from trainrig.rundir.checkpoint_io import SafeCheckpointIO
from trainrig.rundir.results import write_atomic
from trainrig.tasks.options import Classification, LightningModuleTask, Multilabel, Task
from trainrig.training.build import build_task
from trainrig.training.runner import rebuilt_from_checkpoint

PREDICTIONS_FILE = "predictions.csv"
Table = tuple[list[str], list[list[Any]]]  # header, rows


def predict(cfg: DictConfig, run_dir: Path) -> int:
    """Write the predictions of the checkpoint at `cfg.ckpt_path`; return the number of rows."""
    started = time.monotonic()
    trained, data, module = rebuilt_from_checkpoint(cfg, run_dir)
    task = build_task(trained)
    settings = {k: v for k, v in cfg.trainer.items() if k != "_target_"}
    quiet = {"logger": False, "enable_progress_bar": False, "enable_model_summary": False}
    trainer = pl.Trainer(
        **(settings | quiet), plugins=[SafeCheckpointIO()], default_root_dir=str(run_dir)
    )
    if isinstance(task, LightningModuleTask):
        ids, outputs, targets, source = _user_module_outputs(cfg, trainer, data, module)
        header, rows = _raw_table(ids, outputs)
        score = None
    else:
        ids, dataset, targets, source = _inputs(cfg, trained, data, task)
        loader = DataLoader(dataset, batch_size=int(getattr(data, "batch_size", 256)))
        outputs = _stacked(trainer.predict(module, dataloaders=loader))
        names = getattr(data, "output_names", None) or [str(i) for i in range(outputs.shape[1])]
        header, rows = _table(task, ids, outputs, targets, names)
        score = _score(task, outputs, targets)
    path = Path(cfg.output) if cfg.get("output") else run_dir / PREDICTIONS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([header, *rows])
    write_atomic(path, buffer.getvalue())
    scored = f"; {score[0]} {score[1]:.4f}" if score is not None else ""
    seconds = time.monotonic() - started
    print(f"predict: {len(rows)} rows ({source}) written to {path}{scored} ({seconds:.1f} s)")
    return len(rows)


def _inputs(
    cfg: DictConfig, trained: DictConfig, data: Any, task: Task
) -> tuple[list[str], Dataset[Any], Tensor | None, str]:
    """(ids, a dataset of (input, target) pairs, the targets or None, what was predicted)."""
    shape = tuple(data.input_shape)
    if cfg.get("input"):
        kind = getattr(task, "targets", "classes")
        new = read_new_inputs(Path(cfg.input), trained.data, shape, kind)
        if tuple(new.x.shape[1:]) != shape:
            raise ConfigError(
                f"input: {cfg.input} gives samples of shape {tuple(new.x.shape[1:])}, but the "
                f"checkpoint's model takes {shape}"
            )
        targets = _targets_of(new, data, task)
        placeholder = torch.zeros(len(new.ids), dtype=torch.long)
        dataset = TensorDataset(new.x, targets if targets is not None else placeholder)
        return new.ids, dataset, targets, f"input {cfg.input}"
    split = str(cfg.split)
    stored = data.splits[split]
    if isinstance(stored, tuple):  # in memory: (inputs, targets)
        x, y = (t.cpu() for t in stored)
        return [str(i) for i in range(len(y))], TensorDataset(x, y), y, f"{split} split"
    stored.transform = None  # a streamed split: no training transform when predicting
    return [str(i) for i in range(len(stored))], stored, stored.labels, f"{split} split"


def _targets_of(new: NewInputs, data: Any, task: Task) -> Tensor | None:
    """The targets a CSV of new rows gives in its label columns, where it gives all of them."""
    if new.target_texts is None:
        return None
    names = getattr(data, "output_names", None) or []
    if isinstance(task, Classification):
        index = {name: i for i, name in enumerate(names)}
        if not all(row[0] in index for row in new.target_texts):
            return None  # a label the checkpoint never saw: nothing to score against
        return torch.tensor([index[row[0]] for row in new.target_texts])
    try:
        return torch.tensor([[float(t) for t in row] for row in new.target_texts])
    except ValueError:
        return None


def _stacked(batches: Any) -> Tensor:
    if not batches or not all(isinstance(b, Tensor) for b in batches):
        raise ConfigError("predict: the model's predict_step returned no tensors")
    outputs = torch.cat([b.detach().float().cpu() for b in batches])
    return outputs if outputs.dim() > 1 else outputs.unsqueeze(1)


def _table(
    task: Task, ids: list[str], outputs: Tensor, targets: Tensor | None, names: list[str]
) -> Table:
    """id, target (where known), prediction and per-class probabilities (or values)."""
    known = targets is not None
    if isinstance(task, Classification):
        probabilities = outputs.softmax(dim=1)
        predicted = probabilities.argmax(dim=1)
        header = ["id", *(["target"] if known else []), "prediction"]
        header += [f"prob_{name}" for name in names]
        rows = [
            [ids[i], *([names[int(targets[i])]] if targets is not None else []),
             names[int(predicted[i])], *probabilities[i].tolist()]
            for i in range(len(ids))
        ]  # fmt: skip
        return header, rows
    if isinstance(task, Multilabel):
        probabilities = outputs.sigmoid()
        header = ["id", *(["target"] if known else []), "prediction"]
        header += [f"prob_{name}" for name in names]

        def labels(row: Tensor) -> str:
            return ";".join(n for n, on in zip(names, row.tolist(), strict=True) if on)

        chosen = probabilities >= task.threshold
        rows = [
            [ids[i], *([labels(targets[i] > 0.5)] if targets is not None else []),
             labels(chosen[i]), *probabilities[i].tolist()]
            for i in range(len(ids))
        ]  # fmt: skip
        return header, rows
    values = targets.reshape(len(ids), -1) if targets is not None else None
    header = ["id", *(f"target_{n}" for n in names if known), *(f"prediction_{n}" for n in names)]
    rows = [
        [ids[i], *(values[i].tolist() if values is not None else []), *outputs[i].tolist()]
        for i in range(len(ids))
    ]
    return header, rows


def _score(task: Task, outputs: Tensor, targets: Tensor | None) -> tuple[str, float] | None:
    """The figure a split with targets gets in the summary line: accuracy, label accuracy, mse."""
    if targets is None:
        return None
    if isinstance(task, Classification):
        return "accuracy", float((outputs.argmax(dim=1) == targets).float().mean())
    if isinstance(task, Multilabel):
        chosen = outputs.sigmoid() >= task.threshold
        return "label accuracy", float((chosen == (targets > 0.5)).float().mean())
    return "mse", float(((outputs - targets.reshape(outputs.shape)) ** 2).mean())


def _user_module_outputs(
    cfg: DictConfig, trainer: pl.Trainer, data: Any, module: pl.LightningModule
) -> tuple[list[str], Tensor, None, str]:
    """A user's LightningModule: its own predict_step on its own data module's split batches."""
    name = type(module).__name__
    if cfg.get("input"):
        raise ConfigError(
            f"input: task=lightning_module reads inputs through your data module, which "
            f"trainrig cannot feed new files; predict a split of it (split=test), or give "
            f"{name} and its data module a way to read them"
        )
    if not is_overridden("predict_step", module, pl.LightningModule):
        raise ConfigError(
            f"predict: {name} has no predict_step; trainrig cannot tell its inputs from its "
            "targets in a batch: define predict_step(batch, batch_idx) returning the outputs"
        )
    split = str(cfg.split)
    data.prepare_data()
    data.setup("fit" if split != "test" else "test")
    loader = getattr(data, f"{split}_dataloader")()
    outputs = _stacked(trainer.predict(module, dataloaders=loader))
    return [str(i) for i in range(len(outputs))], outputs, None, f"{split} split"


def _raw_table(ids: list[str], outputs: Tensor) -> Table:
    header = ["id", *(f"output_{j}" for j in range(outputs.shape[1]))]
    return header, [[ids[i], *outputs[i].tolist()] for i in range(len(ids))]
