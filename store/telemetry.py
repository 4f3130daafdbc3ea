"""Per-minute telemetry aggregates for trend charts (pure: no database).

Each aggregate keeps ``[n, sum, min, max, last]`` per signal and the newest sample time
merged; a sample at or before that time is a replay and is ignored, so merging is
idempotent under at-least-once delivery (per-machine order holds on Kafka).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from contracts.messages import TelemetrySample


@dataclass(frozen=True)
class SignalMinute:
    """One signal over one minute, read from its stored ``[n, sum, min, max, last]``."""

    n: int
    total: float
    low: float
    high: float
    last: float

    @classmethod
    def of(cls, stored: Sequence[float]) -> SignalMinute:
        n, total, low, high, last = stored
        return cls(int(n), total, low, high, last)

    @property
    def mean(self) -> float:
        return self.total / self.n


@dataclass
class MinuteAggregate:
    """One machine's signals over one UTC minute."""

    machine_id: str
    minute: datetime
    n_samples: int = 0
    last_ts: datetime | None = None
    state: str = "running"
    signals: dict[str, list[float]] = field(default_factory=dict)

    def add(self, sample: TelemetrySample) -> bool:
        """Merge one sample; returns False (and changes nothing) for a replayed sample."""
        if self.last_ts is not None and sample.ts <= self.last_ts:
            return False
        self.n_samples += 1
        self.last_ts = sample.ts
        self.state = sample.state.value
        for name, value in sample.signals.items():
            if value is None:
                continue  # a dropout is not a zero
            agg = self.signals.get(name)
            if agg is None:
                self.signals[name] = [1, value, value, value, value]
            else:
                agg[0] += 1
                agg[1] += value
                agg[2] = min(agg[2], value)
                agg[3] = max(agg[3], value)
                agg[4] = value
        return True

    def signal(self, name: str) -> SignalMinute | None:
        """The signal's aggregate by name; None if no sample of this minute had it."""
        agg = self.signals.get(name)
        return SignalMinute.of(agg) if agg else None

    def mean(self, name: str) -> float | None:
        agg = self.signals.get(name)
        return None if not agg else agg[1] / agg[0]


def minute_of(ts: datetime) -> datetime:
    """The UTC minute a timestamp falls in."""
    return ts.replace(second=0, microsecond=0)


def group_by_minute(samples: list[TelemetrySample]) -> dict[tuple[str, datetime], list[TelemetrySample]]:
    """Samples grouped by (machine, minute), each group in time order."""
    groups: dict[tuple[str, datetime], list[TelemetrySample]] = {}
    for sample in sorted(samples, key=lambda s: (s.machine_id, s.ts, s.seq)):
        groups.setdefault((sample.machine_id, minute_of(sample.ts)), []).append(sample)
    return groups
