"""Hydra plugin: trainrig config search path (./conf, ./experiments)."""
