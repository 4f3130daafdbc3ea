"""Health scores for the API's live stream (the scorer writes them: ``store.writes``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

from store import schema

S = schema.scores


def ingested_since(conn: Connection, since: datetime, limit: int = 500) -> list[dict[str, Any]]:
    """Scores that reached the store after ``since``, oldest first: payload, ingested_at, line_id."""
    q = select(S.c.payload, S.c.ingested_at, S.c.line_id).where(S.c.ingested_at > since) \
        .order_by(S.c.ingested_at).limit(limit)
    return [dict(r) for r in conn.execute(q).mappings()]


def count(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(S)).scalar_one())
