"""The audit log: who did what to which object, when. Every mutation writes one row."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select

from store import schema

t = schema.audit_log


def record(conn: Connection, actor: str, action: str, target_type: str, target_id: str,
           detail: dict[str, Any] | None = None, ts: datetime | None = None) -> None:
    """Append one audit row (in the caller's transaction, so it commits with the change)."""
    conn.execute(t.insert().values(ts=ts or datetime.now(UTC), actor=actor, action=action,
                                   target_type=target_type, target_id=target_id, detail=detail or {}))


def entries(conn: Connection, target_type: str | None = None, target_id: str | None = None,
            limit: int = 200, offset: int = 0) -> list[dict[str, Any]]:
    """Audit rows, newest first, optionally for one object."""
    q = select(t).order_by(t.c.ts.desc(), t.c.id.desc()).limit(limit).offset(offset)
    if target_type:
        q = q.where(t.c.target_type == target_type)
    if target_id:
        q = q.where(t.c.target_id == target_id)
    return [dict(r) for r in conn.execute(q).mappings()]
