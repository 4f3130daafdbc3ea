"""What the scorer reads back from the store to rebuild state after an assignment: alerts
open just before a time, the newest scored window per machine (the scorer writes both) and
recent machine events (persist writes them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select

from contracts.messages import Priority
from store import schema
from store.store import Store


@dataclass(frozen=True)
class OpenAlertRow:
    alert_id: str
    mode: str
    raised_at: datetime
    priority: Priority


def open_alerts_before(store: Store, machine_id: str, ts: datetime) -> list[OpenAlertRow]:
    """Alerts of ``machine_id`` raised before ``ts`` and not cleared before it, oldest first."""
    t = schema.alerts
    query = select(t.c.alert_id, t.c.mode, t.c.raised_at, t.c.priority).where(
        t.c.machine_id == machine_id, t.c.raised_at < ts, or_(t.c.cleared_at.is_(None), t.c.cleared_at >= ts))
    with store.engine.connect() as conn:
        rows = conn.execute(query.order_by(t.c.raised_at)).all()
    return [OpenAlertRow(r.alert_id, r.mode, r.raised_at, r.priority) for r in rows]


def last_scored(store: Store, machine_ids: list[str]) -> dict[str, datetime]:
    """Per machine, the sample time of its newest stored score (machines without one are left out)."""
    if not machine_ids:
        return {}
    t = schema.scores
    query = select(t.c.machine_id, func.max(t.c.ts)).where(t.c.machine_id.in_(machine_ids)).group_by(t.c.machine_id)
    with store.engine.connect() as conn:
        return {m: ts for m, ts in conn.execute(query).all() if ts is not None}


def recent_event_payloads(store: Store, machine_ids: list[str], keep: dict[str, int]) -> list[dict[str, Any]]:
    """Per machine and event kind, the newest ``keep[kind]`` event payloads, oldest first."""
    t = schema.machine_events
    out: list[dict[str, Any]] = []
    with store.engine.connect() as conn:
        for machine_id in machine_ids:
            for kind, n in keep.items():
                rows = conn.execute(select(t.c.payload).where(and_(t.c.machine_id == machine_id, t.c.kind == kind))
                                    .order_by(t.c.ts.desc()).limit(n)).scalars().all()
                out += list(reversed(rows))
    return out
