"""What the scorer reads back from the store to rebuild state after an assignment:
the alerts that were open just before a window, and recent counter events.

Reads go through the store's own tables (``pipelines.store.schema``); writes go through
``Store.upsert_*`` only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import and_, or_, select

from contracts.messages import MachineEvent
from pipelines.health import OpenAlert
from pipelines.store import Store, schema
from pipelines.scoring.eventlog import KEEP_FAILURES, KEEP_MAINTENANCE, KEEP_PARTS

_EVENT = TypeAdapter(MachineEvent)


def open_alerts_before(store: Store, machine_id: str, ts: datetime) -> dict[str, OpenAlert]:
    """Alerts of ``machine_id`` raised before ``ts`` and not cleared before it, by mode."""
    t = schema.alerts
    query = select(t.c.alert_id, t.c.mode, t.c.raised_at, t.c.priority).where(
        t.c.machine_id == machine_id, t.c.raised_at < ts, or_(t.c.cleared_at.is_(None), t.c.cleared_at >= ts))
    with store.engine.connect() as conn:
        rows = conn.execute(query.order_by(t.c.raised_at)).all()
    return {r.mode: OpenAlert(r.alert_id, r.raised_at, r.priority) for r in rows}


def recent_events(store: Store, machine_ids: list[str]) -> list[Any]:
    """Recent maintenance, failure and part events of the machines, as contract messages."""
    t = schema.machine_events
    out: list[Any] = []
    with store.engine.connect() as conn:
        for machine_id in machine_ids:
            for kind, keep in (("maintenance_done", KEEP_MAINTENANCE), ("failure", KEEP_FAILURES),
                               ("part_completed", KEEP_PARTS)):
                rows = conn.execute(select(t.c.payload).where(and_(t.c.machine_id == machine_id, t.c.kind == kind))
                                    .order_by(t.c.ts.desc()).limit(keep)).scalars().all()
                out += [_EVENT.validate_python(p) for p in reversed(rows)]
    return out
