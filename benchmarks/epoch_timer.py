"""A callback that records each training epoch's seconds; trainrig builds it from a config's
`callbacks` mapping (`+callbacks.epoch_timer={_target_:epoch_timer.EpochTimer}`) as a user's."""

from __future__ import annotations

from training import EpochTimer as _Timer


class EpochTimer(_Timer):
    """`training.EpochTimer` that keeps the last instance built, for the benchmark to read."""

    last: EpochTimer

    def __init__(self) -> None:
        super().__init__()
        EpochTimer.last = self
