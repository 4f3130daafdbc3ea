"""Webhook subscriptions and their delivery queue (at-least-once, retried with backoff).

A delivery's id is derived from (webhook, event, alert, escalation level), so enqueueing
the same notification twice is a no-op.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.dialects import postgresql, sqlite

from store import schema
from store.errors import NotFound

W, D = schema.webhooks, schema.webhook_deliveries
EVENTS = ("alert.raised", "alert.escalated", "alert.resolved")


def now() -> datetime:
    return datetime.now(UTC)


def create(conn: Connection, url: str, events: list[str], actor: str) -> dict[str, Any]:
    row = {"webhook_id": secrets.token_hex(8), "url": url, "secret": "whsec_" + secrets.token_urlsafe(24),
           "events": sorted(set(events)), "created_by": actor, "created_at": now(), "active": True}
    conn.execute(W.insert().values(**row))
    return row


def list_all(conn: Connection) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.execute(select(W).where(W.c.active.is_(True)).order_by(W.c.created_at)).mappings()]


def delete(conn: Connection, webhook_id: str) -> dict[str, Any]:
    row = conn.execute(select(W).where(W.c.webhook_id == webhook_id, W.c.active.is_(True))).mappings().first()
    if row is None:
        raise NotFound(f"webhook {webhook_id!r} not found")
    conn.execute(W.update().where(W.c.webhook_id == webhook_id).values(active=False))
    conn.execute(D.update().where(D.c.webhook_id == webhook_id, D.c.status == "pending").values(status="cancelled"))
    return dict(row)


def enqueue(conn: Connection, event: str, alert: dict[str, Any], payload: dict[str, Any]) -> int:
    """Queue ``event`` for every subscribed webhook; returns deliveries newly queued."""
    hooks = [h for h in list_all(conn) if event in h["events"]]
    rows = []
    for h in hooks:
        key = f"{h['webhook_id']}|{event}|{alert['alert_id']}|{alert.get('escalation_level', 0)}"
        rows.append({"delivery_id": hashlib.sha256(key.encode()).hexdigest()[:32], "webhook_id": h["webhook_id"],
                     "event": event, "payload": payload, "attempts": 0, "status": "pending",
                     "next_attempt_at": now(), "last_error": None, "created_at": now(), "delivered_at": None})
    if not rows:
        return 0
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(D).on_conflict_do_nothing(index_elements=["delivery_id"]).returning(D.c.delivery_id)
    return sum(1 for row in rows if conn.execute(stmt.values(**row)).first() is not None)


def due(conn: Connection, limit: int = 50) -> list[dict[str, Any]]:
    q = (select(D, W.c.url, W.c.secret).join(W, W.c.webhook_id == D.c.webhook_id)
         .where(D.c.status == "pending", D.c.next_attempt_at <= now()).order_by(D.c.next_attempt_at).limit(limit))
    return [dict(r) for r in conn.execute(q).mappings()]


def mark(conn: Connection, delivery: dict[str, Any], ok: bool, error: str | None, max_attempts: int,
         backoff_s: float) -> str:
    """Record one attempt; returns the new status (delivered, pending or failed)."""
    attempts = delivery["attempts"] + 1
    if ok:
        status, values = "delivered", {"delivered_at": now()}
    elif attempts >= max_attempts:
        status, values = "failed", {}
    else:
        status, values = "pending", {"next_attempt_at": now() + timedelta(seconds=backoff_s * 2 ** (attempts - 1))}
    conn.execute(D.update().where(D.c.delivery_id == delivery["delivery_id"])
                 .values(attempts=attempts, status=status, last_error=error, **values))
    return status


def deliveries(conn: Connection, webhook_id: str, limit: int = 50) -> list[dict[str, Any]]:
    q = select(D).where(D.c.webhook_id == webhook_id).order_by(D.c.created_at.desc()).limit(limit)
    return [dict(r) for r in conn.execute(q).mappings()]
