"""Hydra plugin: trainrig's Optuna sweeper (hydra/sweeper=optuna)."""
