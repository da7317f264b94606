"""Learning-rate schedule builders; the runner supplies `total_steps` from the Trainer."""

from __future__ import annotations

from torch.optim import Optimizer
from torch.optim.lr_scheduler import CosineAnnealingLR, LRScheduler


def build_cosine(optimizer: Optimizer, total_steps: int, eta_min: float = 0.0) -> LRScheduler:
    """Cosine decay from the optimizer's lr to `eta_min` over `total_steps` optimizer steps."""
    return CosineAnnealingLR(optimizer, T_max=max(1, total_steps), eta_min=eta_min)
