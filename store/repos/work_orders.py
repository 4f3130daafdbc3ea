"""Work orders, and the labels that closed work orders and resolved alerts become."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select

from store import schema
from store.errors import Conflict, NotFound
from store.repos import audit

WO, A = schema.work_orders, schema.alerts


def now() -> datetime:
    return datetime.now(UTC)


def create(conn: Connection, data: dict[str, Any], actor: str) -> dict[str, Any]:
    row = {c.name: None for c in WO.columns} | data | {
        "work_order_id": "wo-" + secrets.token_hex(6), "line_id": data["machine_id"].split("/", 1)[0],
        "status": "open", "created_by": actor, "created_at": now()}
    conn.execute(WO.insert().values(**row))
    audit.record(conn, actor, "work_order.create", "work_order", row["work_order_id"],
                 {k: data[k] for k in ("machine_id", "alert_id", "title", "priority") if k in data})
    return row


def get(conn: Connection, work_order_id: str) -> dict[str, Any]:
    row = conn.execute(select(WO).where(WO.c.work_order_id == work_order_id)).mappings().first()
    if row is None:
        raise NotFound(f"work order {work_order_id!r} not found")
    return dict(row)


def search(conn: Connection, status: str | None, machine: str | None, alert_id: str | None, limit: int, offset: int,
           lines: frozenset[str] = frozenset()) -> list[dict[str, Any]]:
    q = select(WO)
    if status:
        q = q.where(WO.c.status == status)
    if machine:
        q = q.where(WO.c.machine_id == machine)
    if alert_id:
        q = q.where(WO.c.alert_id == alert_id)
    if lines:
        q = q.where(WO.c.line_id.in_(sorted(lines)))
    return [dict(r) for r in conn.execute(q.order_by(WO.c.created_at.desc()).limit(limit).offset(offset)).mappings()]


def close(conn: Connection, work_order_id: str, data: dict[str, Any], actor: str) -> dict[str, Any]:
    row = get(conn, work_order_id)
    if row["status"] == "closed":
        raise Conflict(f"work order {work_order_id} was closed at {row['closed_at'].isoformat()} by {row['closed_by']}")
    change = data | {"status": "closed", "closed_at": now(), "closed_by": actor}
    conn.execute(WO.update().where(WO.c.work_order_id == work_order_id).values(**change))
    audit.record(conn, actor, "work_order.close", "work_order", work_order_id,
                 {k: v for k, v in data.items() if v is not None})
    return row | change


def labels(conn: Connection, start: datetime | None, end: datetime | None) -> list[dict[str, Any]]:
    """Training labels: ``machine_id, ts, mode, outcome`` from closed work orders and resolved alerts.

    ``ts`` is when the condition was first seen (the alert's raise time, else the work
    order's creation); a work order closed for an alert supersedes the alert's own label.
    """
    out: dict[str, dict[str, Any]] = {}
    for r in conn.execute(select(A).where(A.c.resolved_at.is_not(None))).mappings():
        out[r["alert_id"]] = {"machine_id": r["machine_id"], "ts": r["raised_at"],
                              "mode": r["failure_mode"] or r["mode"],
                              "outcome": r["outcome"], "source": "alert", "source_id": r["alert_id"],
                              "cause": r["cause"], "action": r["corrective_action"], "closed_at": r["resolved_at"]}
    q = select(WO, A.c.raised_at, A.c.mode).outerjoin(A, A.c.alert_id == WO.c.alert_id).where(WO.c.status == "closed")
    for r in conn.execute(q).mappings():
        key = r["alert_id"] or r["work_order_id"]
        out[key] = {"machine_id": r["machine_id"], "ts": r["raised_at"] or r["created_at"],
                    "mode": r["failure_mode"] or r["mode"], "outcome": r["outcome"], "source": "work_order",
                    "source_id": r["work_order_id"], "cause": r["cause"], "action": r["corrective_action"],
                    "closed_at": r["closed_at"]}
    rows = [v for v in out.values() if (start is None or v["ts"] >= start) and (end is None or v["ts"] < end)]
    return sorted(rows, key=lambda v: (v["ts"], v["machine_id"]))
