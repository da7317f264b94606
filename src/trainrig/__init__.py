"""trainrig: declarative, config-driven deep-learning experiments (Hydra + Lightning + Optuna)."""

__version__ = "0.1.0"
