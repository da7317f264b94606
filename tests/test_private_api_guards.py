"""Guards for the private names of other packages that trainrig still uses (docs/architecture.md,
"Private names we use"): each test fails when an upgrade renames or reshapes one of them."""

from __future__ import annotations

import inspect
import io
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import pytest
from omegaconf import OmegaConf
from rich.console import Console


def test_atexit_run_exitfuncs_runs_the_handlers() -> None:
    """cli/process_exit.py runs the atexit handlers itself, then os._exit."""
    code = (
        "import atexit, os; atexit.register(print, 'handler ran'); "
        "atexit._run_exitfuncs(); os._exit(0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout == "handler ran\n"


def test_lightning_rich_refresh_thread_has_the_shape_the_progress_bar_replaces() -> None:
    """training/callbacks/progress_bar.py swaps Lightning's render thread in `_init_progress`."""
    from pytorch_lightning.callbacks import RichProgressBar
    from pytorch_lightning.callbacks.progress.rich_progress import CustomProgress, _RefreshThread

    from trainrig.training.callbacks.progress_bar import PromptRefreshThread

    assert list(inspect.signature(RichProgressBar._init_progress).parameters) == ["self", "trainer"]
    progress = CustomProgress(console=Console(file=io.StringIO()), auto_refresh=True)
    progress.start()
    try:
        live = progress.live
        thread = live._refresh_thread
        assert type(thread) is _RefreshThread
        assert thread.refresh_per_second == live.refresh_per_second
        assert {"refresh_cond", "done"} <= vars(thread).keys()
        with live._lock:  # the lock rich's own refresh holds
            pass
        thread.stop()
        prompt = PromptRefreshThread(live, thread.refresh_per_second)
        live._refresh_thread = prompt
        prompt.start()
    finally:
        progress.stop()
    assert live._refresh_thread is None and not prompt.is_alive()  # rich's stop joined it


def test_hydra_applies_value_overrides_to_a_composed_config() -> None:
    """sweeps/trial_configs.py applies a trial's values to a cached composed prefix."""
    from hydra._internal.config_loader_impl import ConfigLoaderImpl, get_overrides_dirname
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parsed = OverridesParser.create().parse_overrides(["a.b=2", "+c=3", "~d"])
    config = OmegaConf.create({"a": {"b": 1}, "d": 0})
    ConfigLoaderImpl._apply_overrides_to_config(parsed, config)
    assert OmegaConf.to_container(config) == {"a": {"b": 2}, "c": 3}
    name = get_overrides_dirname(overrides=parsed, exclude_keys=[], item_sep=",", kv_sep="=")
    assert name == "+c=3,a.b=2,~d"


def test_config_source_reads_the_package_header() -> None:
    """hydra_plugins/trainrig_config_search reads an experiment's `# @package` line this way."""
    from hydra.plugins.config_source import ConfigSource

    assert ConfigSource._get_header_dict("# @package _global_\na: 1\n") == {"package": "_global_"}
    assert ConfigSource._get_header_dict("a: 1\n") == {"package": None}


def test_a_key_below_a_null_node_is_recognized_from_the_frames_that_raised_it() -> None:
    """config/hydra_errors.py reads Hydra's and OmegaConf's frame locals for this error."""
    from hydra._internal.config_loader_impl import ConfigLoaderImpl
    from hydra.core.override_parser.overrides_parser import OverridesParser

    from trainrig.config.hydra_errors import override_below_null

    @dataclass
    class Node:  # like hydra.sweeper.params: a typed mapping that is null
        b: Optional[dict[str, str]] = None  # noqa: UP045 (OmegaConf reads this annotation)

    parsed = OverridesParser.create().parse_overrides(["a.b.c.d=1"])
    config = OmegaConf.create({"a": OmegaConf.structured(Node)}, flags={"struct": True})
    message = None
    try:
        ConfigLoaderImpl._apply_overrides_to_config(parsed, config)
    except AssertionError as error:
        message = override_below_null(error)
    assert message is not None and message.startswith("a.b.c.d=1: a.b is null, so it has no keys")


def test_optuna_logs_a_failed_trial_on_the_logger_of_its_optimize_module() -> None:
    """sweeps/objective.py filters `optuna.study._optimize`'s logger: the failed-trial warning a
    sweep already reported in one line must come from that logger, or the filter drops nothing."""
    import logging

    import optuna

    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logger = logging.getLogger("optuna.study._optimize")
    handler = Keep()
    logger.addHandler(handler)
    try:
        study = optuna.create_study()

        def fails(trial: optuna.Trial) -> float:
            raise ValueError("no")

        study.optimize(fails, n_trials=1, catch=(ValueError,))
    finally:
        logger.removeHandler(handler)
    assert any("failed" in r.getMessage() and r.name == logger.name for r in records)


def test_hydra_file_config_source_is_the_class_options_config_source_extends() -> None:
    """hydra_plugins/trainrig_config_search's OptionsConfigSource subclasses Hydra's internal
    FileConfigSource (file:// option files) and overrides only `scheme` and `load_config`."""
    from hydra._internal.core_plugins.file_config_source import FileConfigSource
    from hydra.plugins.config_source import ConfigSource

    from hydra_plugins.trainrig_config_search.trainrig_config_search import OptionsConfigSource

    assert issubclass(FileConfigSource, ConfigSource)
    assert FileConfigSource.scheme() == "file"
    assert list(inspect.signature(FileConfigSource.load_config).parameters) == [
        "self",
        "config_path",
    ]
    assert issubclass(OptionsConfigSource, FileConfigSource)


def test_lightning_csv_logger_keeps_its_writer_in_experiment_and_deletes_old_metrics(
    tmp_path: Path,
) -> None:
    """training/loggers/resumable_csv.py sets the `_experiment` attribute Lightning's CSVLogger
    returns from `experiment`, and keeps the metrics.csv its writer deletes on a new start."""
    from pytorch_lightning.loggers import CSVLogger
    from pytorch_lightning.loggers.csv_logs import ExperimentWriter

    logger = CSVLogger(tmp_path, name="csv", version="")
    assert logger._experiment is None
    made = logger.experiment
    assert logger._experiment is made and type(made) is ExperimentWriter
    (tmp_path / "csv" / "metrics.csv").write_text("epoch,step\n0,0\n")
    with pytest.warns(UserWarning, match="will be deleted"):
        ExperimentWriter(str(tmp_path / "csv"))
    assert not (tmp_path / "csv" / "metrics.csv").exists()  # what AppendingWriter undoes


def test_lightning_training_loop_keeps_its_epoch_figures_and_step_counter() -> None:
    """training/loggers/resumed_records.py reads the epoch's training row from the training
    loop's `_results` (a result collection whose `metrics(on_step=False)["log"]` Lightning logs
    at the epoch's end) and its step from `_batches_that_stepped`."""
    import pytorch_lightning as pl
    from pytorch_lightning.trainer.connectors.logger_connector.result import _ResultCollection

    trainer = pl.Trainer(logger=False, enable_checkpointing=False, enable_progress_bar=False)
    loop = trainer.fit_loop.epoch_loop
    assert isinstance(loop._results, _ResultCollection) and loop._batches_that_stepped == 0
    assert loop._results.metrics(on_step=False)["log"] == {}
    source = inspect.getsource(type(trainer.fit_loop).on_advance_end)
    assert "update_train_epoch_metrics()" in source and "_batches_that_stepped -= 1" in source
