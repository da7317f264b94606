"""Augmentation benchmarks.

`augmentation_throughput`: trainrig's batched kornia augmentation against a per-sample
torchvision v2 pipeline with the same operations (Keras' example: rotation 20 degrees, shifts of
20%, horizontal flip), on 3x32x32 images on this machine's CPU. Goal: at least 20x the throughput,
i.e. seconds per image at most 0.05x.

`augmentation_overhead`: seconds per epoch of the default experiment (Lightning fit) with its
augmentation (`basic`) against `augmentation=none`. Goal: at most 1.25x.
"""

from __future__ import annotations

import statistics
import time

from result import Result

BATCH = 256
SHAPE = (3, 32, 32)
REPEATS = 15
KERAS_EXAMPLE = {"rotation_range": 20.0, "width_shift_range": 0.2, "height_shift_range": 0.2,
                 "horizontal_flip": True}  # fmt: skip


def _seconds_per_image(run: object, images: object) -> float:
    """Fastest of REPEATS wall times of `run(images)`, per image, after one warm-up.

    The minimum, as timeit advises: on a shared 2-core machine the slower repeats measure the
    neighbours, not the code (medians of 5 ranged from 11x to 28x here).
    """
    run(images)  # type: ignore[operator]
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        run(images)  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return min(times) / BATCH


def measure_throughput() -> Result:
    """Batched kornia against per-sample torchvision v2, same operations and images."""
    import torch
    from torchvision.transforms import v2

    from trainrig.augmentation.batched import build_augmentation

    torch.manual_seed(0)
    images = torch.rand(BATCH, *SHAPE)
    labels = torch.zeros(BATCH, dtype=torch.long)
    batched = build_augmentation(SHAPE, 10, **KERAS_EXAMPLE)
    per_sample = v2.Compose(
        [
            v2.RandomAffine(degrees=20.0, translate=(0.2, 0.2)),
            v2.RandomHorizontalFlip(),
        ]
    )

    def kornia_batch(x: torch.Tensor) -> torch.Tensor:
        return batched(x, labels)[0]

    def torchvision_each(x: torch.Tensor) -> torch.Tensor:
        return torch.stack([per_sample(image) for image in x])

    with torch.no_grad():
        value = _seconds_per_image(kornia_batch, images)
        baseline = _seconds_per_image(torchvision_each, images)
    return Result(
        benchmark="augmentation_throughput",
        value=value,
        baseline=baseline,
        goal=0.05,
        detail=f"{BATCH} images {SHAPE}, s/image; speed-up {baseline / value:.1f}x",
    )


def measure_overhead() -> Result:
    """Default experiment's epoch time with `augmentation=basic` against `augmentation=none`."""
    from training import lightning_epochs

    rounds = 3
    augmented, plain = [], []
    for _ in range(rounds):
        plain.append(statistics.median(lightning_epochs(7, overrides=("augmentation=none",))[1:]))
        augmented.append(statistics.median(lightning_epochs(7)[1:]))
    return Result(
        benchmark="augmentation_overhead",
        value=statistics.median(augmented),
        baseline=statistics.median(plain),
        goal=1.25,
        detail=f"{rounds}x7 epochs, basic vs none",
    )
