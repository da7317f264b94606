"""Run hydra-optuna-sweeper's own tests, copied here, against trainrig's `hydra/sweeper=optuna`.

The suite calls `chdir_plugin_root()` at import, which looks for Hydra's repository layout (the
plugin's setup.py); here each version's folder (`v1_3_5/`, `main/`) is that root: it holds the
suite's `example/` apps and `tests/conf/`, and each test runs with it as the working directory.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import hydra.test_utils.test_utils as hydra_test_utils
import pytest

SUITE = Path(__file__).resolve().parent


def _plugin_root(test_file: Path) -> Path:
    """The version folder a copied test file belongs to (`<version>/tests/test_*.py`)."""
    return test_file.resolve().parent.parent


hydra_test_utils.chdir_plugin_root = lambda: None  # the fixture below chdirs for each test


@pytest.fixture(autouse=True)
def _in_plugin_root(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test runs where the suite expects: its version's folder, with the repo's src first."""
    previous = Path.cwd()
    os.chdir(_plugin_root(Path(str(request.path))))
    try:
        yield
    finally:
        os.chdir(previous)
