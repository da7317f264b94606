"""Model compression: pruning, quantization and the before/after report."""
