"""The recent machine events the feature counters need (hours since maintenance or
failure, parts since maintenance), kept per machine and bounded.

Events are deduplicated by ``event_id`` (at-least-once delivery, and the same event may
come both from the store and from the topic while rebuilding).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

KEEP_MAINTENANCE = 20
KEEP_FAILURES = 10
KEEP_PARTS = 20_000
COUNTED_KINDS = ("maintenance_done", "failure", "part_completed")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _ns(ts: datetime) -> int:
    """Nanoseconds since the epoch of an aware datetime (what ``pd.to_datetime(utc=True)`` gives)."""
    return (ts - _EPOCH) // _MICROSECOND * 1000


class _PartTimes:
    """The last ``KEEP_PARTS`` part times of one machine (ns) in a ring written twice, so the
    kept times are always one contiguous view (as ``MachineWindow`` keeps its rows)."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.ns = np.zeros(2 * capacity, dtype=np.int64)
        self.count = 0

    def append(self, ns: int) -> None:
        i = self.count % self.capacity
        self.ns[i] = self.ns[i + self.capacity] = ns
        self.count += 1

    def view(self) -> np.ndarray:
        if not self.count:
            return self.ns[:0]
        end = (self.count - 1) % self.capacity + self.capacity + 1
        return self.ns[end - min(self.count, self.capacity):end]


@dataclass(frozen=True)
class MachineEvents:
    """One machine's kept events as arrays (``datetime64[ns]``): what ``counters_from`` reads."""

    maintenance_ts: np.ndarray
    maintenance_component: np.ndarray  # object: component names (None when absent)
    failure_ts: np.ndarray
    part_ts: np.ndarray


@dataclass
class EventLog:
    """Per-machine bounded event memory, shaped like the events table of docs/data-format.md."""

    rows: dict[str, dict[str, deque[tuple[datetime, str, str | None]]]] = field(default_factory=dict)
    seen: dict[str, set[str]] = field(default_factory=dict)
    _parts: dict[str, _PartTimes] = field(default_factory=dict)

    def add(self, event: Any) -> bool:
        """Remember an event if its kind feeds a counter; False for a duplicate or other kind."""
        if event.kind not in COUNTED_KINDS:
            return False
        seen = self.seen.setdefault(event.machine_id, set())
        if event.event_id in seen:
            return False
        seen.add(event.event_id)
        per_kind = self.rows.setdefault(event.machine_id, {
            "maintenance_done": deque(maxlen=KEEP_MAINTENANCE), "failure": deque(maxlen=KEEP_FAILURES),
            "part_completed": deque(maxlen=KEEP_PARTS)})
        per_kind[event.kind].append((event.ts, event.kind, getattr(event, "component", None)))
        if event.kind == "part_completed":
            parts = self._parts.get(event.machine_id)
            if parts is None:
                parts = self._parts[event.machine_id] = _PartTimes(KEEP_PARTS)
            parts.append(_ns(event.ts))
        if len(seen) > 4 * KEEP_PARTS:  # bound memory; old ids cannot come back after this many events
            seen.clear()
        return True

    def frame(self, machine_ids: list[str]) -> pd.DataFrame | None:
        """Events of the given machines as a table for ``pipelines.features.compute``."""
        data = [(m, ts, kind, comp) for m in machine_ids for rows in self.rows.get(m, {}).values()
                for ts, kind, comp in rows]
        if not data:
            return None
        frame = pd.DataFrame(data, columns=["machine_id", "ts", "kind", "component"])
        frame["ts"] = pd.to_datetime(frame["ts"], utc=True)
        return frame.sort_values(["machine_id", "ts"], kind="stable", ignore_index=True)

    def arrays(self, machine_id: str) -> MachineEvents | None:
        """The same events as ``frame([machine_id])``, as arrays, without building a table: the
        scorer asks for them every step, and a robot keeps 20,000 part times."""
        rows = self.rows.get(machine_id)
        if rows is None:
            return None
        maint, fails = rows["maintenance_done"], rows["failure"]
        parts = self._parts.get(machine_id)
        return MachineEvents(
            maintenance_ts=np.array([_ns(ts) for ts, _, _ in maint], dtype=np.int64).view("datetime64[ns]"),
            maintenance_component=np.array([c for _, _, c in maint], dtype=object),
            failure_ts=np.array([_ns(ts) for ts, _, _ in fails], dtype=np.int64).view("datetime64[ns]"),
            part_ts=(parts.view() if parts is not None else np.zeros(0, dtype=np.int64)).view("datetime64[ns]"))

    def forget(self, machine_id: str) -> None:
        self.rows.pop(machine_id, None)
        self._parts.pop(machine_id, None)
        self.seen.pop(machine_id, None)
