"""trainrig tests: config tree, units, and end-to-end CLI runs."""
