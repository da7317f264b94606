"""Data augmentation: batched on the device, or per sample in loader workers."""
