"""Every `trainrig` command that README.md and docs/*.md show, and how the test suite runs it.

tests/test_docs_commands.py reads the documents at test time: each line of a ```bash block that
starts with `trainrig ` (a `\\` continues it; `  # ...` ends it) must be a key below, and each
key must still be in a document. A key maps to `Run` (run in smoke size, with placeholders such
as `<run>` filled from a shared run) or to `Skip` with the reason it cannot run here.
"""

from __future__ import annotations

from dataclasses import dataclass

SMOKE = ("trainer=smoke",)
TRIALS = ("trainer=smoke", "hydra.sweeper.n_trials=2")
OWN_PROJECT = "examples/digits_project"  # the README's "Your own code" commands run there


@dataclass(frozen=True)
class Run:
    """Run the command with `extra` appended, in a fresh folder that sees the repository's
    ./experiments (or `project`'s ./conf, ./experiments and modules); it must exit `status`,
    print every line of `shows` and write every glob of `writes` (relative to that folder)."""

    extra: tuple[str, ...] = SMOKE
    shows: tuple[str, ...] = ()
    writes: tuple[str, ...] = ()
    status: int = 0
    project: str = ""


@dataclass(frozen=True)
class Skip:
    """A documented command that cannot run in the test suite, and why."""

    reason: str


RUN_FILES = ("outputs/train/runs/*/metrics.json", "outputs/train/runs/*/checkpoints/best.ckpt")
GPU = "needs CUDA GPUs"
COVERED = "the same code path runs in smoke size as `{}`"

COMMANDS: dict[str, Run | Skip] = {
    # README: quick tour
    "trainrig train": Run(writes=RUN_FILES, shows=("Run directory",)),
    "trainrig train model=mlp optimizer=sgd optimizer.lr=0.05 trainer.max_epochs=60": Run(
        extra=("trainer=smoke", "trainer.max_epochs=2"), writes=RUN_FILES
    ),
    "trainrig train experiment=digits_mlp_sgd": Run(writes=RUN_FILES),
    "trainrig train experiment=diabetes_regression": Run(writes=RUN_FILES, shows=("test/r2",)),
    "trainrig train -m model=cnn,mlp optimizer.lr=1e-3,3e-3": Run(
        writes=tuple(f"outputs/train/multiruns/*/{job}/metrics.json" for job in range(4))
    ),
    "trainrig train sweep=digits_tpe": Run(
        extra=TRIALS, writes=("outputs/sweeps/digits_tpe/summary.json",)
    ),
    "trainrig train repeat.seeds=[1,2,3]": Run(
        writes=tuple(f"outputs/train/runs/*/repeats/seed_{s}/metrics.json" for s in (1, 2, 3))
    ),
    "trainrig train repeat.folds=5": Run(writes=("outputs/train/runs/*/repeats/fold_4/*.json",)),
    "trainrig eval ckpt_path=outputs/train/runs/<run>/checkpoints/best.ckpt": Run(
        extra=(), shows=("test/acc",)
    ),
    "trainrig report outputs/train/multiruns/<multirun>": Run(
        extra=(), writes=("outputs/train/multiruns/report/report.md",)
    ),
    "trainrig resume outputs/train/runs/<run>": Run(extra=(), shows=("finished already",)),
    "trainrig resume outputs/train/runs/<run> trainer.max_epochs=30": Skip(
        COVERED.format("trainrig resume outputs/train/runs/<run>")
        + " and in tests/test_resume.py (lengthening)"
    ),
    "trainrig predict ckpt_path=.../best.ckpt [input=FOLDER_OR_CSV]": Run(
        extra=(), writes=("outputs/predict/runs/*/predictions.csv",)
    ),
    "trainrig train init_from.path=.../best.ckpt init_from.freeze=[model.1]": Run(writes=RUN_FILES),
    "trainrig train debug=fdr": Run(extra=(), shows=("No best checkpoint",)),
    "trainrig train callbacks=[default,swa] trainer.gradient_clip_val=1": Skip(
        "tests/test_callbacks_group.py trains with swa added; tests/test_trainer_flags.py sets "
        "Trainer keys trainrig never listed"
    ),
    # README: your own code (examples/digits_project)
    "trainrig train experiment=digits_module": Run(writes=RUN_FILES, project=OWN_PROJECT),
    "trainrig train -m experiment=digits_module model.hidden_size=32,128": Skip(
        COVERED.format("trainrig train -m model=cnn,mlp optimizer.lr=1e-3,3e-3")
        + " and tests/test_examples.py"
    ),
    "trainrig train experiment=digits_search": Skip(
        "an Optuna search of the example project; tests/test_examples.py runs it in smoke size"
    ),
    "trainrig report outputs/sweeps/digits_search outputs/train/runs/<run>": Skip(
        COVERED.format("trainrig report outputs/train/multiruns/<multirun>")
    ),
    # docs/configuration.md
    "trainrig train --cfg job model=mlp": Run(extra=(), shows=("_target_: trainrig.models",)),
    "trainrig train --help": Run(extra=(), shows=("model: cnn, mlp",)),
    "trainrig lr-find model=resnet": Run(
        extra=("trainer=smoke", "lr_find.num_training=8"),
        writes=("outputs/lr_find/runs/*/lr_find.png",),
    ),
    "trainrig list": Run(extra=(), shows=("optimizer\n  adam",)),
    "trainrig list optimizer": Run(extra=(), shows=("  sgd ",)),
    "trainrig report outputs/train/multiruns/<date>_<time>_<8 hex>": Skip(
        COVERED.format("trainrig report outputs/train/multiruns/<multirun>")
    ),
    "trainrig compress ckpt_path=<run>/checkpoints/best.ckpt compression=prune_l1": Run(
        extra=SMOKE, writes=("outputs/compress/runs/*/compression.json",)
    ),
    "trainrig train 'callbacks=[default,swa]' callbacks.swa.swa_epoch_start=0.5": Skip(
        "tests/test_callbacks_group.py trains with the swa callback"
    ),
    "trainrig train callbacks.model_checkpoint.save_top_k=3 callbacks.lr_monitor=null": Run(
        writes=RUN_FILES
    ),
    "trainrig train '+callbacks.timer={_target_:my_project.callbacks.EpochTimer,every:2}'": Skip(
        "needs your project's module; tests/test_callbacks_group.py runs a project's own callback"
    ),
    'eval "$(trainrig -sc install=bash)"': Run(extra=(), shows=("COMP_LINE",)),
    # docs/compression.md
    "trainrig train compression=prune_global": Run(writes=RUN_FILES),
    "trainrig train model=mlp compression=quantize_dynamic": Run(writes=RUN_FILES),
    "trainrig compress ckpt_path=outputs/train/runs/<run>/checkpoints/best.ckpt "
    "compression=prune_l1": Skip(
        COVERED.format("trainrig compress ckpt_path=<run>/checkpoints/best.ckpt ...")
    ),
    "trainrig train model=mlp compression=distill "
    "compression.teacher_ckpt=<teacher run>/checkpoints/best.ckpt": Run(writes=RUN_FILES),
    "trainrig train compression=prune_iterative": Skip(
        "tests/test_iterative_pruning.py trains it in smoke size"
    ),
    "trainrig train compression=quantize_qat": Skip(
        "tests/test_quantization_aware.py trains it in smoke size"
    ),
    "trainrig train compression=prune_channels": Skip(
        "tests/test_channel_pruning.py trains it end to end and checks its figures"
    ),
    "trainrig train compression=prune_channels compression.criterion=taylor "
    "compression.scope=global": Run(writes=RUN_FILES),
    "trainrig train compression=prune_channels compression.steps=3": Run(writes=RUN_FILES),
    "trainrig train compression=prune_channels compression.distill=true": Skip(
        "tests/test_channel_pruning.py distils and quantizes a pruned checkpoint (compress)"
    ),
    "trainrig train compression=prune_channels compression.quantize=dynamic": Skip(
        "tests/test_channel_pruning.py distils and quantizes a pruned checkpoint (compress)"
    ),
    "trainrig compress ckpt_path=<run>/checkpoints/best.ckpt compression=prune_channels": Skip(
        "tests/test_channel_pruning.py compresses a checkpoint with prune_channels"
    ),
    "trainrig eval ckpt_path=<run>/checkpoints/pruned.ckpt": Skip(
        "tests/test_channel_pruning.py evaluates a pruned.ckpt against its report"
    ),
    "trainrig train sweep=digits_pruning_vs_accuracy": Skip(
        "tests/test_compression_sweep.py runs it in smoke size"
    ),
    # docs/distributed.md
    "trainrig train experiment=digits_data_parallel": Skip(
        "2 DDP processes: tests/test_distributed.py runs DDP on the CPU"
    ),
    "trainrig train strategy=ddp trainer.devices=4 trainer.accelerator=gpu": Skip(GPU),
    "trainrig train strategy=fsdp trainer.devices=8 trainer.accelerator=gpu "
    "strategy.cpu_offload=true": Skip(GPU),
    "trainrig train strategy=model_parallel model=mlp model.batch_norm=false trainer.devices=2": (
        Skip(GPU)
    ),
    "trainrig train -m strategy=ddp trainer.devices=2 trainer.accelerator=cpu seed=1,2,3": Skip(
        "3 DDP jobs: tests/test_ddp_trials.py runs DDP jobs of a multirun"
    ),
    "trainrig train -m hydra/launcher=slurm hydra.launcher.partition=gpu "
    "hydra.launcher.timeout_min=120 strategy=ddp trainer.devices=4 model=cnn,mlp "
    "optimizer.lr=1e-3,1e-2": Skip("needs a Slurm cluster; tests/test_cluster_launch.py"),
    "trainrig train strategy=pipeline trainer.devices=2 strategy.micro_batches=4": Skip(
        "2 pipeline processes over gloo: tests/test_pipeline.py trains and compares them"
    ),
    # docs/predict.md
    "trainrig predict ckpt_path=outputs/train/runs/<run>/checkpoints/best.ckpt": Skip(
        COVERED.format("trainrig predict ckpt_path=.../best.ckpt [input=FOLDER_OR_CSV]")
    ),
    "trainrig predict ckpt_path=... split=val": Run(
        extra=(), writes=("outputs/predict/runs/*/predictions.csv",)
    ),
    "trainrig predict ckpt_path=... input=new_images/": Skip(
        "needs your own images; tests/test_predict_and_fine_tuning.py predicts a folder"
    ),
    "trainrig predict ckpt_path=... input=new_rows.csv output=preds.csv": Skip(
        "needs your own CSV and a checkpoint trained on data=csv; no test predicts new CSV rows "
        "yet (tests/test_predict_and_fine_tuning.py checks only that an image model refuses one)"
    ),
    # docs/runs-and-resume.md
    "trainrig train repeat.folds=5 repeat.fold=2": Run(writes=RUN_FILES),
    # docs/sweeps.md
    "trainrig train -m hydra/sweeper=optuna hydra/sweeper/sampler=gp "
    "hydra/sweeper/pruner=hyperband hydra.sweep.dir=outputs/sweeps/lr hydra.sweeper.n_trials=20 "
    "hydra.sweeper.direction=maximize "
    "'optimizer.lr=tag(log,interval(1e-4,1e-1))' model=cnn,mlp": Run(
        extra=TRIALS, writes=("outputs/sweeps/lr/summary.json",)
    ),
    "trainrig train sweep=digits_tpe hydra.sweeper.n_workers=2": Skip(
        "two worker processes: tests/test_sweep_workers.py"
    ),
}
