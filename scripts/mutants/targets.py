"""The modules `scripts/mutation` mutates, each with the test files that cover it.

Only their fast in-process tests run per mutant (runner.fast_tests); add a file here when a new
test covers one of these modules. Files whose tests all start trainrig processes without the
`trainrig_cli` fixture (test_sweep_workers.py, test_sweep_enqueue_constraints.py) are left out:
they cannot see a mutant, and measuring them once per module takes minutes.
"""

from __future__ import annotations

TARGETS: dict[str, tuple[str, ...]] = {
    # security: the `_target_` allow-list, redaction, checkpoint loading
    "src/trainrig/config/target_allowlist.py": (
        "tests/test_target_allowlist.py",
        "tests/test_project_modules.py",
        "tests/test_config_properties.py",
    ),
    "src/trainrig/config/project_modules.py": (
        "tests/test_project_modules.py",
        "tests/test_target_allowlist.py",
    ),
    "src/trainrig/rundir/redaction.py": ("tests/test_redaction.py",),
    "src/trainrig/rundir/checkpoints.py": (
        "tests/test_checkpoint_reading.py",
        "tests/test_checkpoint_security.py",
        "tests/test_atomic_writes.py",
        "tests/test_resume.py",
    ),
    "src/trainrig/rundir/checkpoint_io.py": (
        "tests/test_checkpoint_reading.py",
        "tests/test_checkpoint_security.py",
        "tests/test_atomic_writes.py",
        "tests/test_checkpoint_links.py",
    ),
    # config validation
    "src/trainrig/config/validate.py": (
        "tests/test_option_checks.py",
        "tests/test_config_properties.py",
        "tests/test_config_tree.py",
        "tests/test_validate_repeats.py",
    ),
    "src/trainrig/config/node_check.py": (
        "tests/test_option_checks.py",
        "tests/test_validate_repeats.py",
        "tests/test_config_properties.py",
        "tests/test_config_tree.py",
    ),
    "src/trainrig/config/signature.py": (
        "tests/test_option_checks.py",
        "tests/test_one_source_of_truth.py",
        "tests/test_config_properties.py",
        "tests/test_config_tree.py",
    ),
    # sweeps: the search space and the trial accounting
    "src/trainrig/sweeps/search_space.py": (
        "tests/test_search_space.py",
        "tests/test_optuna_sweeper.py",
    ),
    "src/trainrig/sweeps/tally.py": (
        "tests/test_tally.py",
        "tests/test_sweep_storage.py",
    ),
    # resume and schedules
    "src/trainrig/rundir/resume.py": ("tests/test_resume_rules.py", "tests/test_resume.py"),
    "src/trainrig/training/schedules.py": ("tests/test_schedules.py",),
}
