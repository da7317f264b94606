"""The Hydra plugin that serves ./experiments as the `experiment` group."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hydra.core.object_type import ObjectType
from hydra.plugins.config_source import ConfigLoadError

from hydra_plugins.trainrig_config_search.trainrig_config_search import (
    ExperimentsConfigSource,
    OptionsConfigSource,
)


@pytest.fixture
def source(tmp_path: Path) -> ExperimentsConfigSource:
    (tmp_path / "fast.yaml").write_text("# @package _global_\nseed: 3\n")
    (tmp_path / "notes.txt").write_text("not a config")
    return ExperimentsConfigSource("test", f"trainrig-experiments://{tmp_path}")


def test_lists_yaml_files_as_options_of_the_experiment_group(
    source: ExperimentsConfigSource,
) -> None:
    assert source.list("", ObjectType.GROUP) == ["experiment"]
    assert source.list("experiment", ObjectType.CONFIG) == ["fast"]
    assert source.list("model", ObjectType.CONFIG) == []
    assert source.is_group("experiment") and not source.is_group("model")
    assert source.is_config("experiment/fast") and not source.is_config("experiment/slow")


def test_loads_an_experiment_with_its_package_header(source: ExperimentsConfigSource) -> None:
    result = source.load_config("experiment/fast")
    assert result.config.seed == 3
    assert result.header["package"] == "_global_"
    with pytest.raises(ConfigLoadError):
        source.load_config("experiment/slow")
    with pytest.raises(ConfigLoadError):
        source.load_config("model/fast")


def test_a_missing_folder_is_simply_unavailable(tmp_path: Path) -> None:
    source = ExperimentsConfigSource("test", f"trainrig-experiments://{tmp_path / 'none'}")
    assert not source.available()
    assert source.list("", None) == []


def test_an_option_file_is_read_again_once_it_changes(tmp_path: Path) -> None:
    """Option files are kept once filled (a sweep composes the same files per trial), but an
    edited file is read anew, and each load is a copy that Hydra may change freely."""
    option = tmp_path / "optimizer" / "mine.yaml"
    option.parent.mkdir()
    option.write_text("_target_: trainrig.training.optimizers.adam\nlr: 0.5\n")
    source = OptionsConfigSource("test", f"trainrig-options://{tmp_path}")
    first = source.load_config("optimizer/mine")
    assert first.config.lr == 0.5 and first.config.betas == [0.9, 0.999]  # filled defaults
    first.config.lr = 7.0
    assert source.load_config("optimizer/mine").config.lr == 0.5
    option.write_text("_target_: trainrig.training.optimizers.adam\nlr: 0.25\n")
    os.utime(option, ns=(1, 1))  # a new modification time, whatever the clock's resolution
    assert source.load_config("optimizer/mine").config.lr == 0.25
    with pytest.raises(ConfigLoadError):
        source.load_config("optimizer/missing")


NAMED_FIRST = "# experiments/wide_cnn.yaml\n# @package _global_\n# A wider CNN.\nseed: 3\n"


def test_a_package_header_after_a_first_comment_line_is_read(tmp_path: Path) -> None:
    """Hydra's own reader stops at `# experiments/wide_cnn.yaml`; the whole leading comment
    block counts here, for experiments and for option files."""
    (tmp_path / "wide_cnn.yaml").write_text(NAMED_FIRST)
    experiments = ExperimentsConfigSource("test", f"trainrig-experiments://{tmp_path}")
    assert experiments.load_config("experiment/wide_cnn").header["package"] == "_global_"
    (tmp_path / "sweep").mkdir()
    (tmp_path / "sweep" / "wide.yaml").write_text(NAMED_FIRST.replace("wide_cnn", "sweep/wide"))
    options = OptionsConfigSource("test", f"trainrig-options://{tmp_path}")
    assert options.load_config("sweep/wide").header["package"] == "_global_"


def test_the_description_skips_the_line_that_names_the_file(tmp_path: Path) -> None:
    from trainrig.config.tree import ConfigOption

    path = tmp_path / "wide_cnn.yaml"
    for text in (NAMED_FIRST, "# @package _global_\n# A wider CNN.\n# experiments/wide_cnn.yaml\n"):
        path.write_text(text)
        assert ConfigOption("experiment", "wide_cnn", path, "experiments").description == (
            "A wider CNN."
        )
