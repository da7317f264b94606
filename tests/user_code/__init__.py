"""A user's own code, as tests of task=lightning_module and of a user's data module bring it."""
