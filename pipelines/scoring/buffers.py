"""Per-machine sample windows and the bad-input policy for order and duplicates.

Each machine keeps its last ``capacity`` samples (``FeatureSpec.max_window`` plus the
rows of the batch being scored). Per-machine order holds on Kafka (key = machine id), so
a sample at or before the newest one kept is a duplicate (same time and seq, e.g. a
producer retry or a replay) or out of order; both are dropped and counted, never scored.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

import numpy as np


class Outcome(StrEnum):
    """What happened to one telemetry record (the ``outcome`` label of the metrics)."""

    OK = "ok"
    DUPLICATE = "duplicate"
    OUT_OF_ORDER = "out_of_order"
    UNKNOWN_MACHINE = "unknown_machine"
    SENSOR_FAULT = "sensor_fault"  # kept and scored, absurd values removed
    REPLAYED = "replayed"  # read again to rebuild state after a restart, not scored again


@dataclass
class MachineWindow:
    """The recent samples of one machine, as columns ready for a DataFrame."""

    signals: tuple[str, ...]
    capacity: int
    ts: deque = field(init=False)
    seq: deque = field(init=False)
    state: deque = field(init=False)
    values: deque = field(init=False)

    def __post_init__(self) -> None:
        self.ts, self.seq, self.state, self.values = (deque(maxlen=self.capacity) for _ in range(4))
        self._index = {name: i for i, name in enumerate(self.signals)}

    @property
    def last_ts(self) -> datetime | None:
        return self.ts[-1] if self.ts else None

    def check(self, ts: datetime, seq: int) -> Outcome:
        """OK if the sample is newer than the newest kept, else why it is dropped."""
        if not self.ts or ts > self.ts[-1]:
            return Outcome.OK
        if ts == self.ts[-1] or seq in self.seq:
            return Outcome.DUPLICATE
        return Outcome.OUT_OF_ORDER

    def append(self, ts: datetime, seq: int, state: str, signals: dict[str, float | None]) -> None:
        row = np.full(len(self.signals), np.nan)
        for name, value in signals.items():
            i = self._index.get(name)
            if i is not None and value is not None:
                row[i] = value
        self.ts.append(ts)
        self.seq.append(seq)
        self.state.append(state)
        self.values.append(row)

    def __len__(self) -> int:
        return len(self.ts)

    def tail_from(self, ts: datetime, history: int) -> tuple[list, list, np.ndarray]:
        """Rows from ``history`` rows before the first sample at/after ``ts`` to the newest."""
        times = list(self.ts)
        first = next((i for i, t in enumerate(times) if t >= ts), len(times))
        start = max(0, first - history)
        return times[start:], list(self.state)[start:], np.vstack(list(self.values)[start:])
