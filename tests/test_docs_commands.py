"""The documents as tests: every command README.md and docs/*.md show runs here in smoke size
(tests/doc_commands.py says how, or why not), their printed errors are what the command prints,
and the files they print (experiments, options) work as printed."""

from __future__ import annotations

import contextlib
import glob
import io
import os
import re
import shlex
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from unittest import mock

import pytest

from trainrig.cli.main import main

from .conftest import REPO_ROOT
from .doc_commands import COMMANDS, SMOKE, Run, Skip

DOCUMENTS = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.DOTALL | re.MULTILINE)
SHARED = "outputs/train/runs/shared"
PLACEHOLDERS = (  # (what a document writes, what the test puts there)
    ("outputs/train/runs/<run>", SHARED),
    ("<run>", SHARED),
    ("<teacher run>", SHARED),
    (".../best.ckpt", f"{SHARED}/checkpoints/best.ckpt"),
    ("ckpt_path=...", f"ckpt_path={SHARED}/checkpoints/best.ckpt"),
    ("<multirun>", "shared"),
    (" [input=FOLDER_OR_CSV]", ""),
)


def _blocks(language: str) -> Iterator[tuple[Path, str]]:
    for document in DOCUMENTS:
        for found in FENCE.finditer(document.read_text(encoding="utf-8")):
            if found.group(1) == language:
                yield document, found.group(2)


def documented_commands() -> dict[str, Path]:
    """Each `trainrig` line of the documents' ```bash blocks, its comment cut off, and where."""
    commands: dict[str, Path] = {}
    for document, block in _blocks("bash"):
        for line in block.replace("\\\n", " ").splitlines():
            command = " ".join(line.split("  #")[0].split())
            if command.startswith(("trainrig ", 'eval "$(trainrig')) or command == "trainrig":
                commands.setdefault(command, document)
    return commands


def documented_errors() -> list[tuple[str, list[str]]]:
    """Each `$ trainrig ...` line of the documents' plain blocks with the lines printed under it."""
    examples: list[tuple[str, list[str]]] = []
    for _, block in _blocks(""):
        current: list[str] | None = None  # the output lines of the block's last command
        for line in block.splitlines():
            if line.startswith("$ trainrig "):
                current = []
                examples.append((line.removeprefix("$ "), current))
            elif current is not None and line.strip():
                current.append(line)
    return examples


def documented_files() -> list[tuple[str, str]]:
    """Each ```yaml block whose first line names its file (`# experiments/NAME.yaml`)."""
    files = []
    for _, block in _blocks("yaml"):
        first = block.splitlines()[0].removeprefix("#").strip()
        if first.endswith(".yaml") and " " not in first:
            files.append((first, block))
    return files


def run_in_process(argv: list[str], cwd: Path) -> tuple[int, str]:
    """`trainrig ARGV` in this process (no interpreter start, no torch import per command):
    exit status and what it printed on standard output and error together."""
    printed = io.StringIO()
    with (
        mock.patch.dict(os.environ),  # the CLI sets its one-line-error flags for itself
        contextlib.chdir(cwd),
        contextlib.redirect_stdout(printed),
        contextlib.redirect_stderr(printed),
    ):
        try:
            main(argv)
            status = 0
        except SystemExit as stop:
            status = stop.code if isinstance(stop.code, int) else 1
    return status, printed.getvalue()


def _workspace(root: Path, project: str = "") -> Path:
    """A folder that sees the repository's ./experiments, or a project's conf, experiments and
    modules, and holds the shared run and multirun the placeholders name."""
    source = REPO_ROOT / project if project else REPO_ROOT
    folder = root / (project.replace("/", "_") or "repo")
    folder.mkdir(exist_ok=True)
    if project:  # a copy: the project's modules must lie under the folder it runs in
        shutil.copytree(source, folder, dirs_exist_ok=True)
    else:
        (folder / "experiments").symlink_to(source / "experiments")
    return folder


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """One copy per example project for the whole module: its modules, once imported in this
    process, stay imported from there."""
    root = tmp_path_factory.mktemp("projects")
    made: dict[str, Path] = {}

    def project(name: str) -> Path:
        if name not in made:
            made[name] = _workspace(root, name)
        return made[name]

    return project


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = _workspace(tmp_path_factory.mktemp("docs"))
    status, printed = run_in_process(["train", *SMOKE, f"hydra.run.dir={SHARED}"], folder)
    assert status == 0, printed
    multirun = ["train", "-m", "model=cnn,mlp", *SMOKE, "hydra.sweep.dir=outputs/train/multiruns"]
    status, printed = run_in_process([*multirun[:-1], f"{multirun[-1]}/shared"], folder)
    assert status == 0, printed
    return folder


def test_every_documented_command_is_in_the_table() -> None:
    documented = documented_commands()
    missing = {c: str(p.relative_to(REPO_ROOT)) for c, p in documented.items() if c not in COMMANDS}
    assert not missing, f"add these to tests/doc_commands.py (Run or Skip with a reason): {missing}"
    stale = [c for c in COMMANDS if c not in documented]
    assert not stale, f"no document shows these any more; drop them from doc_commands.py: {stale}"


def _argv(command: str, entry: Run) -> list[str]:
    for shown, real in PLACEHOLDERS:
        command = command.replace(shown, real)
    if command.startswith("eval "):
        command = command.removeprefix('eval "$(').removesuffix(')"')
    return [*shlex.split(command)[1:], *entry.extra]


RUNS = sorted(c for c, e in COMMANDS.items() if isinstance(e, Run))


@pytest.mark.parametrize("command", RUNS)
def test_documented_command_runs(
    command: str, workspace: Path, projects: Callable[[str], Path]
) -> None:
    entry = COMMANDS[command]
    assert isinstance(entry, Run)
    folder = projects(entry.project) if entry.project else workspace
    before = set(glob.glob("**", root_dir=folder, recursive=True))
    status, printed = run_in_process(_argv(command, entry), folder)
    assert status == entry.status, printed
    for shown in entry.shows:
        assert shown in printed, printed
    for pattern in entry.writes:
        written = set(glob.glob(pattern, root_dir=folder)) - before
        assert written, f"{command}: wrote no {pattern}\n{printed}"


@pytest.mark.parametrize(("command", "printed"), documented_errors())
def test_a_documented_error_is_what_the_command_prints(
    command: str, printed: list[str], tmp_path: Path
) -> None:
    status, output = run_in_process(shlex.split(command)[1:], _workspace(tmp_path))
    assert status == 2
    assert output.strip().splitlines() == printed


@pytest.mark.parametrize(("name", "text"), documented_files(), ids=lambda v: str(v)[:40])
def test_a_documented_file_works_as_printed(
    name: str, text: str, tmp_path: Path, projects: Callable[[str], Path]
) -> None:
    """Saved as printed (over the example project's own file where it has one), listed with its
    description, composed; an experiment trains in smoke size."""
    owners = [p for p in (REPO_ROOT / "examples").iterdir() if (p / name).is_file()]
    project = str(owners[0].relative_to(REPO_ROOT)) if owners else ""
    folder = projects(project) if project else tmp_path
    (folder / name).parent.mkdir(parents=True, exist_ok=True)
    (folder / name).unlink(missing_ok=True)
    (folder / name).write_text(text)
    group, option = Path(name).parent.name, Path(name).stem
    group = "experiment" if group == "experiments" else group
    status, printed = run_in_process(["list", group], folder)
    assert status == 0 and option in printed, printed
    description = next(line for line in printed.splitlines() if f" {option} " in line)
    assert name not in description  # the description is the file's summary, not its name
    trains = [*SMOKE, f"hydra.run.dir={tmp_path / 'run'}"]
    trial = trains if group == "experiment" else ["--cfg", "job"]
    status, printed = run_in_process(["train", f"{group}={option}", *trial], folder)
    assert status == 0, printed


def test_skipped_commands_say_why() -> None:
    for command, entry in COMMANDS.items():
        if isinstance(entry, Skip):
            assert len(entry.reason) > 10, command


def test_the_distilled_students_stated_size_is_its_size() -> None:
    from trainrig.models.mlp import build_mlp

    stated = re.search(r"hidden \[32\]: ([\d,]+) parameters", (REPO_ROOT / "experiments" /
        "digits_distilled_mlp.yaml").read_text())  # fmt: skip
    assert stated is not None
    student = build_mlp((1, 8, 8), 10, hidden_sizes=[32], batch_norm=True, dropout=0.1)
    assert sum(p.numel() for p in student.parameters()) == int(stated[1].replace(",", ""))
