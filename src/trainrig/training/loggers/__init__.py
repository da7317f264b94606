"""Builders of the `logger` group's options that need more than Lightning's own class."""
