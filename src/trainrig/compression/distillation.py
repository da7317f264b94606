"""Knowledge distillation: a student (any `model` option) learns from a trained teacher's logits.

The training loss is `alpha * T^2 * KL(softmax(teacher / T) || softmax(student / T)) + (1 - alpha)
* cross-entropy` (Hinton et al., 2015); `train/loss` stays the hard-label cross-entropy and the
soft term is logged as `train/distill_loss`. The teacher comes from a checkpoint `trainrig train`
wrote; it is frozen, kept in eval mode and kept out of the student's checkpoint.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from annotated_types import Ge, Gt, Le

from trainrig.compression.onnx_files import Export
from trainrig.compression.run import CompressionSteps
from trainrig.config.errors import ConfigError
from trainrig.config.signature import option

if TYPE_CHECKING:
    from torch import Tensor, nn

    from trainrig.training.hooks import CompressionRun
    from trainrig.training.supervised import SupervisedModule


def _one_teacher(teacher_ckpt: str | None, teacher_experiment: str | None, **_: Any) -> None:
    if (teacher_ckpt is None) == (teacher_experiment is None):
        raise ConfigError(
            "compression: give the teacher as teacher_ckpt=<a best.ckpt> or as "
            "teacher_experiment=<an experiment to train first>, one of the two"
        )


@option("compression", rule=_one_teacher)
@dataclass(frozen=True)
class Distillation(CompressionSteps):
    """`compression=distill`: where the teacher is, the temperature and the soft-loss weight.

    The teacher is a checkpoint (`teacher_ckpt`), or an experiment (`teacher_experiment`, with
    `teacher_overrides`) that is trained first, in the run's `teacher/` directory.
    """

    teacher_ckpt: str | None = None  # checkpoints/best.ckpt of a run on the same data, or
    teacher_experiment: str | None = None  # an experiment to train first (in teacher/)
    teacher_overrides: Sequence[str] = ()  # for the teacher run, e.g. [trainer=smoke]
    temperature: Annotated[float, Gt(0)] = 4.0  # the soft loss is scaled by temperature^2
    alpha: Annotated[float, Ge(0), Le(1)] = 0.7  # the soft loss's weight; 1 - alpha the labels'
    name: str = "distill"
    export: Export = None

    def prepare(self, classifier: SupervisedModule, data: Any, run: CompressionRun) -> None:
        """Load (or first train) the teacher, and have the classifier learn from it."""
        if run.task == "compress":
            raise ConfigError(
                "compression=distill trains a new student: run `trainrig train model=<student> "
                "compression=distill compression.teacher_ckpt=<teacher's best.ckpt>` instead"
            )
        path = self.teacher_ckpt
        if path is None:
            # the student's seed, so the teacher's split is the student's: a teacher trained on
            # the student's test images would pass on what it learnt of them
            overrides = (f"seed={run.seed}", *self.teacher_overrides)
            path = str(train_teacher(str(self.teacher_experiment), overrides, run.run_dir))
        teacher = load_teacher(Path(path), data)
        classifier.distiller = Distiller(teacher, self.temperature, self.alpha)

    def reference(self, classifier: SupervisedModule, run: CompressionRun) -> nn.Module:
        """The teacher: a distilled student is compressed by its training, the model as it is."""
        assert isinstance(classifier.distiller, Distiller), "prepare attaches the teacher"
        return classifier.distiller.teacher.cpu()


def distillation_loss(student_logits: Tensor, teacher_logits: Tensor, temperature: float) -> Tensor:
    """T^2 * KL(softmax(teacher / T) || softmax(student / T)), averaged over the batch."""
    import torch.nn.functional as F

    student = F.log_softmax(student_logits / temperature, dim=1)
    teacher = F.log_softmax(teacher_logits / temperature, dim=1)
    kl = F.kl_div(student, teacher, reduction="batchmean", log_target=True)
    return kl * temperature**2


class Distiller:
    """Holds the frozen teacher (not a submodule: not trained, not saved) and mixes the losses."""

    def __init__(self, teacher: nn.Module, temperature: float, alpha: float) -> None:
        self.teacher = teacher.eval().requires_grad_(False)
        self.temperature = temperature
        self.alpha = alpha

    def loss(
        self, student_logits: Tensor, inputs: Tensor, hard_loss: Tensor
    ) -> tuple[Tensor, Tensor]:
        """(the loss to minimize, the soft distillation term) for one batch."""
        import torch

        if next(self.teacher.parameters()).device != inputs.device:
            self.teacher.to(inputs.device)
        with torch.no_grad():
            teacher_logits = self.teacher(inputs)
        soft = distillation_loss(student_logits, teacher_logits, self.temperature)
        return self.alpha * soft + (1 - self.alpha) * hard_loss, soft


def train_teacher(experiment: str, overrides: tuple[str, ...] | list[str], run_dir: Path) -> Path:
    """Train `experiment` (a `trainrig train` of its own) in `run_dir/teacher`; its best.ckpt."""
    teacher_dir = run_dir / "teacher"
    command = [sys.executable, "-m", "trainrig", "train", f"experiment={experiment}"]
    command += [*overrides, f"hydra.run.dir={teacher_dir}"]
    done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if done.returncode != 0:
        raise ConfigError(
            f"compression.teacher_experiment={experiment}: training the teacher failed: "
            f"{done.stderr.strip().splitlines()[-1] if done.stderr.strip() else done.returncode}"
        )
    return teacher_dir / "checkpoints" / "best.ckpt"


def load_teacher(path: Path, data: Any) -> nn.Module:
    """The trained classifier of the checkpoint at `path`, built for `data`."""
    import torch

    from trainrig.rundir.checkpoints import load_config_from_checkpoint
    from trainrig.training.build import build_module

    if not path.is_file():
        raise ConfigError(
            f"compression.teacher_ckpt: no checkpoint file at {path}; train the teacher first "
            "(trainrig train ...) and pass its checkpoints/best.ckpt"
        )
    teacher_cfg = load_config_from_checkpoint(path)
    teacher = build_module(teacher_cfg, data)
    state = torch.load(path, map_location="cpu", weights_only=True)["state_dict"]
    try:
        teacher.load_state_dict(state)
    except RuntimeError as error:
        detail = str(error).splitlines()[1].strip() if "\n" in str(error) else str(error)
        raise ConfigError(
            f"compression.teacher_ckpt: the weights in {path} do not fit the model its config "
            f"describes for this data ({detail}); use a checkpoint trained on the same data"
        ) from None
    return teacher
