"""Distributed training: Lightning strategies, device checks, rank launch and run directories."""
