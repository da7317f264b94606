"""Composing and checking configs: the config tree, validation, `_target_` allow-list, errors."""
