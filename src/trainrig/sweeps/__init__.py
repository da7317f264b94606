"""Optuna sweeps: search spaces, the study loop and its outputs."""

# A sweep trial's entry under the run config's `callbacks`: its pruning callback, which names the
# trial (storage, study, number) rather than a setting of the run.
PRUNING_CALLBACK = "optuna_pruning"
