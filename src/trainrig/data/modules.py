"""The data modules the runner accepts: in memory (small data) or streamed (large data)."""

from __future__ import annotations

from trainrig.data.in_memory import InMemoryDataModule
from trainrig.data.streaming import StreamingDataModule

ClassificationData = InMemoryDataModule | StreamingDataModule
