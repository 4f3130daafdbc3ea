"""The recent machine events the feature counters need (hours since maintenance or
failure, parts since maintenance), kept per machine and bounded.

Events are deduplicated by ``event_id`` (at-least-once delivery, and the same event may
come both from the store and from the topic while rebuilding).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd

KEEP_MAINTENANCE = 20
KEEP_FAILURES = 10
KEEP_PARTS = 20_000
COUNTED_KINDS = ("maintenance_done", "failure", "part_completed")


@dataclass
class EventLog:
    """Per-machine bounded event memory, shaped like the events table of docs/data-format.md."""

    rows: dict[str, dict[str, deque[tuple[datetime, str, str | None]]]] = field(default_factory=dict)
    seen: dict[str, set[str]] = field(default_factory=dict)

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

    def forget(self, machine_id: str) -> None:
        self.rows.pop(machine_id, None)
        self.seen.pop(machine_id, None)
