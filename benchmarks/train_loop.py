"""`train_loop`: seconds per epoch of Lightning's training loop against a plain PyTorch loop.

Both loops train the default experiment (CNN with batch norm on digits, kornia augmentation, Adam,
per-step cosine schedule, accuracy) in this process. The sides alternate, plain then Lightning, for
a few rounds to cancel drift; each side drops its first (warm-up) epoch and takes the median of the
rest, and the figures are the medians over the rounds. The round count is odd so that the median
really discards a round disturbed by other work on the machine.
"""

from __future__ import annotations

import statistics

from result import Result

EPOCHS = 7
ROUNDS = 3
GOAL = 1.15


def _compare(benchmark: str, progress_bar: bool) -> Result:
    """Lightning, with or without the progress bar, against the plain loop in alternating rounds."""
    from training import lightning_epochs, plain_epochs  # the training stack loads only here

    plain: list[float] = []
    lightning: list[float] = []
    for _ in range(ROUNDS):
        plain.append(statistics.median(plain_epochs(EPOCHS)[1:]))
        lightning.append(statistics.median(lightning_epochs(EPOCHS, progress_bar)[1:]))
    ratios = " ".join(f"{lit / base:.2f}" for lit, base in zip(lightning, plain, strict=True))
    return Result(
        benchmark=benchmark,
        value=statistics.median(lightning),
        baseline=statistics.median(plain),
        goal=GOAL,
        detail=f"{ROUNDS}x{EPOCHS} epochs; rounds {ratios}",
    )


def measure() -> Result:
    """Lightning's loop, without progress bar, checkpoints or logger, against the plain loop."""
    return _compare("train_loop", progress_bar=False)


def measure_default_callbacks() -> Result:
    """As `measure`, with trainrig's rich progress bar on: what the training UI costs."""
    return _compare("train_loop_default_callbacks", progress_bar=True)
