"""Per-machine sample windows and the bad-input policy for order and duplicates.

Each machine keeps its last ``capacity`` samples (``FeatureSpec.max_window`` plus the
rows of the batch being scored) in numpy ring buffers. Per-machine order holds on Kafka (key = machine id), so
a sample at or before the newest one kept is a duplicate (same time and seq, e.g. a
producer retry or a replay) or out of order; both are dropped and counted, never scored.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum

import numpy as np

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


class Outcome(StrEnum):
    """What happened to one telemetry record (the ``outcome`` label of the metrics)."""

    OK = "ok"
    DUPLICATE = "duplicate"
    OUT_OF_ORDER = "out_of_order"
    UNKNOWN_MACHINE = "unknown_machine"
    SENSOR_FAULT = "sensor_fault"  # kept and scored, absurd values removed
    REPLAYED = "replayed"  # read again to rebuild state after a restart, not scored again


class MachineWindow:
    """The recent samples of one machine in numpy ring buffers (O(1) per sample).

    Each buffer is written twice (at ``i`` and ``i + capacity``), so the last ``k`` rows
    up to any recent row are one contiguous slice: a feature block is a view, not a copy.
    ``count`` is the number of rows appended so far; row ``n`` (0-based) is valid while
    ``count - n <= capacity``.
    """

    def __init__(self, signals: tuple[str, ...], capacity: int) -> None:
        self.signals = signals
        self.capacity = capacity
        self._index = {name: i for i, name in enumerate(signals)}
        self.values = np.full((len(signals), 2 * capacity), np.nan)
        self.ts_ns = np.zeros(2 * capacity, dtype=np.int64)
        self.seqs = np.full(2 * capacity, -1, dtype=np.int64)
        self.count = 0
        self._last_ts: datetime | None = None

    @property
    def last_ts(self) -> datetime | None:
        return self._last_ts

    def check(self, ts: datetime, seq: int) -> Outcome:
        """OK if the sample is newer than the newest kept, else why it is dropped."""
        if self._last_ts is None or ts > self._last_ts:
            return Outcome.OK
        kept = min(self.count, self.capacity)
        end = self.count % self.capacity + self.capacity
        if ts == self._last_ts or bool((self.seqs[end - kept:end] == seq).any()):
            return Outcome.DUPLICATE
        return Outcome.OUT_OF_ORDER

    def append(self, ts: datetime, seq: int, signals: dict[str, float | None], running: bool = True) -> int:
        """Add a row (values NaN when ``running`` is False); returns its row number."""
        i = self.count % self.capacity
        j = i + self.capacity
        col = self.values[:, i]
        col[:] = np.nan
        if running:
            index = self._index
            for name, value in signals.items():
                k = index.get(name)
                if k is not None and value is not None:
                    col[k] = value
        self.values[:, j] = col
        ns = (ts - _EPOCH) // _MICROSECOND * 1000
        self.ts_ns[i] = self.ts_ns[j] = ns
        self.seqs[i] = self.seqs[j] = seq
        self._last_ts = ts
        self.count += 1
        return self.count - 1

    def __len__(self) -> int:
        return min(self.count, self.capacity)

    def block(self, row: int, length: int) -> tuple[np.ndarray, np.ndarray]:
        """Values (signals x ``length``) and times (ns) of the ``length`` rows up to ``row``,
        NaN-padded in front when the machine has fewer rows; views where possible."""
        if self.count - row > self.capacity - length + 1 or row >= self.count:
            raise ValueError(f"row {row} is no longer (or not yet) in the buffer of {self.capacity} rows")
        end = row % self.capacity + self.capacity + 1
        have = min(row + 1, length)
        if have == length:
            return self.values[:, end - length:end], self.ts_ns[end - length:end]
        vals = np.full((len(self.signals), length), np.nan)
        vals[:, length - have:] = self.values[:, end - have:end]
        ts = np.full(length, self.ts_ns[end - have])
        ts[length - have:] = self.ts_ns[end - have:end]
        return vals, ts
