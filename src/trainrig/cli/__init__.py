"""The `trainrig` command: subcommands, Hydra task functions, listing, process start and exit."""
