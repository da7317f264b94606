"""The `trainrig` command: subcommands over Hydra apps; imports nothing heavy at module level."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from trainrig.cli.process_exit import end_process  # standard library only
from trainrig.cli.startup_gc import pause_collection, resume_collection  # standard library only
from trainrig.config.errors import (
    EXIT_CONFIG_ERROR,
    EXIT_RUNTIME_ERROR,
    ONE_LINE_ERRORS_FLAG,
    exit_with,
    one_line_errors,
)

USAGE = """\
usage: trainrig COMMAND [ARGS ...]

commands:
  train [OVERRIDE ...]     train an experiment; Hydra overrides (model=mlp optimizer.lr=0.01),
                           -m for a multirun sweep, --cfg job, --info, --help
  eval ckpt_path=PATH      test a checkpoint written by `trainrig train`
  predict ckpt_path=PATH [split=test | input=FOLDER_OR_CSV] [output=FILE.csv]
                           write a checkpoint's predictions (and class probabilities) as a CSV
  lr-find [OVERRIDE ...]   learning-rate range test on the composed experiment; writes a plot
  compress ckpt_path=PATH [compression=NAME]
                           prune (and fine-tune) or quantize a trained checkpoint, with a report
  resume RUN_DIR [trainer.max_epochs=N]
                           continue an interrupted run from its last checkpoint, or lengthen a
                           finished one
  list [GROUP]             list every option of every config group (or of one group)
  report PATH... [--out DIR]
                           compare runs, multiruns and sweeps: report.md and report.html with a
                           table of what differs, sorted by the objective, and training curves

`trainrig COMMAND --help` shows a command's config groups and options.
Errors print one line; set HYDRA_FULL_ERROR=1 for the full traceback.
Shell completion (bash): eval "$(trainrig -sc install=bash)"
"""

# command -> its primary config (conf/NAME.yaml) and task function (trainrig.cli.tasks.NAME_task)
HYDRA_COMMANDS = {
    "train": "train",
    "eval": "eval",
    "predict": "predict",
    "lr-find": "lr_find",
    "compress": "compress",
}
COMMANDS = (*HYDRA_COMMANDS, "resume", "list", "report")


def run() -> NoReturn:
    """The `trainrig` command and `python -m trainrig`: `main`, then a quick exit (the process
    ends without tearing down torch's modules; see trainrig.cli.process_exit)."""
    try:
        main()
    except SystemExit as stop:
        if not isinstance(stop.code, int | None):
            raise  # sys.exit("message"): Python prints it
        end_process(stop.code or 0)
    except BrokenPipeError:  # the reader left early (`trainrig list | head`): nothing to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        end_process(0)
    end_process(0)


def main(argv: Sequence[str] | None = None) -> None:
    """What the `trainrig` command does with `argv` (the command line when None)."""
    args = list(sys.argv[1:] if argv is None else argv)
    put_project_on_path()  # a config may name the project's modules, as under `python -m`
    if args and args[0] in ("-sc", "--shell-completion"):
        _shell_completion(args)
    if not args or args[0] in ("-h", "--help"):
        print(USAGE, end="")
        sys.exit(0)
    command, rest = args[0], args[1:]
    if command == "list":
        from trainrig.cli.listing import list_options

        sys.exit(list_options(rest))
    if command == "resume":
        _resume(rest)
    if command == "report":
        from trainrig.report.command import main as report

        sys.exit(report(rest))
    if command not in HYDRA_COMMANDS:
        exit_with(f"unknown command {command!r}; choose one of {', '.join(COMMANDS)}")
    _run_hydra_app(command, rest)


def put_project_on_path() -> None:
    """The working directory first on sys.path, as `python -m` does, unless it is there already:
    a config's `_target_` may name the project's modules (config/project_modules.py)."""
    cwd = os.getcwd()
    if not any(os.path.abspath(entry or os.curdir) == cwd for entry in sys.path):
        sys.path.insert(0, cwd)


def _resume(args: list[str]) -> NoReturn:
    """`trainrig resume RUN_DIR`: `trainrig train` with the run's overrides and resume=auto."""
    from trainrig.config.errors import ConfigError
    from trainrig.rundir.resume import resume_arguments

    try:
        arguments = resume_arguments(args)
    except ConfigError as error:
        exit_with(str(error))
    # Hydra rewrites the run's overrides.yaml as the job starts; a refused resume (another
    # config) must leave the run's own overrides for the next `trainrig resume RUN_DIR`.
    overrides = Path(args[0]) / ".hydra" / "overrides.yaml"
    saved = overrides.read_bytes()
    try:
        _run_hydra_app("train", arguments)
    except SystemExit as stop:
        if stop.code not in (0, None):
            overrides.write_bytes(saved)
        raise
    sys.exit(0)


def _task_function(command: str) -> Callable[[Any], Any]:
    from trainrig.cli import tasks

    task: Callable[[Any], Any] = getattr(tasks, f"{HYDRA_COMMANDS[command]}_task")
    return task


def _run_hydra_app(command: str, args: list[str]) -> None:
    """Run the Hydra app of `command`; report errors in one line unless HYDRA_FULL_ERROR=1."""
    if "TORCHELASTIC_RUN_ID" in os.environ and os.environ.get("RANK", "0") != "0":
        from trainrig.cli.tasks import stopped_by_torchrun

        signal.signal(signal.SIGTERM, stopped_by_torchrun)  # until its config is validated
    pause_collection()  # resumed once the heavy imports are done (trainrig.cli.startup_gc)
    import hydra

    from trainrig.config.resolvers import register_resolvers
    from trainrig.config.tree import BUILTIN_CONF_DIR

    register_resolvers()
    app = hydra.main(
        version_base="1.3",
        config_path=str(BUILTIN_CONF_DIR),
        config_name=HYDRA_COMMANDS[command],
    )(_task_function(command))
    # A child process (DDP) inherits both variables from a parent that set them below.
    wants_traceback = os.environ.get("HYDRA_FULL_ERROR") == "1" and not one_line_errors()
    if not wants_traceback:
        os.environ["HYDRA_FULL_ERROR"] = "1"  # let errors reach the handler below
        os.environ[ONE_LINE_ERRORS_FLAG] = "1"
    program = sys.argv[0]
    sys.argv = [program, *args]
    try:
        app()
    except Exception as error:
        if wants_traceback:
            raise
        _report(error)
    finally:
        sys.argv = [program, command, *args]
        resume_collection()  # on again for a caller of `main`, even when no task ran (--cfg job)


def _report(error: BaseException) -> NoReturn:
    """Print an error as one short message; bad input exits 2, a failure while running exits 1."""
    from hydra.errors import HydraException, OverrideParseException
    from omegaconf.errors import OmegaConfBaseException
    from yaml import YAMLError

    from trainrig.config.errors import ConfigError, RunError, config_error_in
    from trainrig.config.hydra_errors import (
        bad_group_value,
        override_below_list,
        override_below_null,
        short_message,
        unparsable_override,
    )
    from trainrig.config.output_dir_errors import unwritable_output_dir
    from trainrig.rundir.io_errors import io_error_message

    error = config_error_in(error) or error

    if isinstance(error, BrokenPipeError):  # e.g. `trainrig train --help | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)
    if isinstance(error, OverrideParseException):
        exit_with(unparsable_override(error.override, error.message), EXIT_CONFIG_ERROR)
    if isinstance(error, ConfigError | HydraException | OmegaConfBaseException):
        message = str(error)
        if isinstance(error.__cause__, OmegaConfBaseException | YAMLError):
            message += f"\n{error.__cause__}"
        exit_with(short_message(message), EXIT_CONFIG_ERROR)
    if isinstance(error, YAMLError):
        exit_with(f"malformed YAML: {error}", EXIT_CONFIG_ERROR)
    hydra_bad_input = (
        override_below_null(error) or override_below_list(error) or bad_group_value(error)
    )
    if hydra_bad_input is not None:
        exit_with(hydra_bad_input, EXIT_CONFIG_ERROR)
    unwritable = unwritable_output_dir(error)
    if unwritable is not None:
        exit_with(unwritable, EXIT_CONFIG_ERROR)
    if isinstance(error, RunError):  # e.g. the loss diverged
        exit_with(str(error), EXIT_RUNTIME_ERROR)
    file_problem = io_error_message(error)  # a full disk, a folder gone
    if file_problem is not None:
        exit_with(file_problem, EXIT_RUNTIME_ERROR)
    exit_with(
        f"{type(error).__name__}: {error}\n(set HYDRA_FULL_ERROR=1 for the full traceback)",
        EXIT_RUNTIME_ERROR,
    )


def _shell_completion(args: list[str]) -> NoReturn:
    """Complete the subcommand, then hand the rest of the line to that command's Hydra app.

    `install=bash` / `uninstall=bash` print Hydra's shell script, which calls back with
    `query=bash` and the line typed so far in COMP_LINE.
    """
    if not any(arg.startswith("query=") for arg in args):
        _run_hydra_app("train", args)
        sys.exit(0)
    words = os.environ.get("COMP_LINE", "").split(" ")  # ["trainrig", COMMAND, ...]
    command = words[1] if len(words) > 1 else ""
    if len(words) > 2 and command in HYDRA_COMMANDS:
        os.environ["COMP_LINE"] = " ".join(["trainrig", *words[2:]])
        _run_hydra_app(command, args)
        sys.exit(0)
    print(" ".join(c for c in COMMANDS if c.startswith(command)))
    sys.exit(0)
