"""Optuna sweeps: search spaces, the study loop and its outputs."""
