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


def latencies(conn: Connection) -> list[tuple[datetime, datetime]]:
    """(sample time, time it reached the store) of every score: the benchmarks' end-to-end latency."""
    return [(ts, stored) for ts, stored in conn.execute(select(S.c.ts, S.c.ingested_at)).all()]


def ingest_span(conn: Connection) -> tuple[int, datetime | None, datetime | None]:
    """(scores stored, first and last time one reached the store)."""
    n, first, last = conn.execute(select(func.count(), func.min(S.c.ingested_at), func.max(S.c.ingested_at))).one()
    return int(n), first, last


def health_points(conn: Connection) -> list[tuple[str, datetime, float, float | None]]:
    """(machine, window end, health, RUL hours) of every stored score: machine-hours per health band."""
    q = select(S.c.machine_id, S.c.ts, S.c.health, S.c.rul_hours)
    return [(m, ts, float(h), None if r is None else float(r)) for m, ts, h, r in conn.execute(q).all()]
