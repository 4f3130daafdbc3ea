"""What the scorer reads back from the store to rebuild state after an assignment:
the alerts that were open just before a window, the newest scored window per machine (the
ceiling of a rebuild's ordering check) and recent counter events.

The queries live in the store (``store.readback``); this module turns rows into the
scorer's own types.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import TypeAdapter

from contracts.messages import MachineEvent
from pipelines.health import OpenAlert
from pipelines.scoring.eventlog import KEEP_FAILURES, KEEP_MAINTENANCE, KEEP_PARTS
from store import Store, readback

_EVENT = TypeAdapter(MachineEvent)
_KEEP = {"maintenance_done": KEEP_MAINTENANCE, "failure": KEEP_FAILURES, "part_completed": KEEP_PARTS}


def open_alerts_before(store: Store, machine_id: str, ts: datetime) -> dict[str, OpenAlert]:
    """Alerts of ``machine_id`` raised before ``ts`` and not cleared before it, by mode."""
    return {r.mode: OpenAlert(r.alert_id, r.raised_at, r.priority)
            for r in readback.open_alerts_before(store, machine_id, ts)}


def recent_events(store: Store, machine_ids: list[str]) -> list[Any]:
    """Recent maintenance, failure and part events of the machines, as contract messages."""
    return [_EVENT.validate_python(p) for p in readback.recent_event_payloads(store, machine_ids, _KEEP)]


def last_scored(store: Store, machine_ids: list[str]) -> dict[str, datetime]:
    """Sample time (UTC) of each machine's newest stored score."""
    return {m: ts if ts.tzinfo else ts.replace(tzinfo=UTC)
            for m, ts in readback.last_scored(store, machine_ids).items()}
