"""Inputs of the KPI engine (``pipelines.kpis``) read from the store, plus baselines and
pilot reports."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import Connection, or_, select

from store import schema
from store.errors import NotFound
from store.repos import audit

EV, A, B, P = schema.machine_events, schema.alerts, schema.baselines, schema.pilot_reports
STATE_LOOKBACK = timedelta(days=30)  # a state change this long before `start` still sets the state at `start`


def events_frame(conn: Connection, start: datetime, end: datetime, machines: list[str] | None) -> pd.DataFrame:
    """The events table (docs/data-format.md) for [start, end), plus earlier state changes."""
    q = select(EV.c.machine_id, EV.c.ts, EV.c.kind, EV.c.failure_mode.label("mode"), EV.c.component,
               EV.c.part_good.label("good"), EV.c.cycle_time_s, EV.c.ideal_cycle_time_s, EV.c.energy_kwh,
               EV.c.planned, EV.c.duration_s, EV.c.parts_cost, EV.c.action, EV.c.reason,
               EV.c.from_state, EV.c.to_state).where(
        EV.c.ts < end, or_(EV.c.ts >= start, (EV.c.kind == "state_changed") & (EV.c.ts >= start - STATE_LOOKBACK)),
        EV.c.kind != "plc_alarm")
    if machines is not None:
        q = q.where(EV.c.machine_id.in_(machines))
    rows = [dict(r) for r in conn.execute(q.order_by(EV.c.ts)).mappings()]
    return pd.DataFrame(rows, columns=[c.name for c in q.selected_columns])


def alerts_frame(conn: Connection, start: datetime, end: datetime, machines: list[str] | None) -> pd.DataFrame:
    q = select(A.c.machine_id, A.c.raised_at.label("ts"), A.c.mode).where(A.c.raised_at >= start, A.c.raised_at < end)
    if machines is not None:
        q = q.where(A.c.machine_id.in_(machines))
    return pd.DataFrame([dict(r) for r in conn.execute(q).mappings()], columns=["machine_id", "ts", "mode"])


def create_baseline(conn: Connection, data: dict[str, Any], actor: str) -> dict[str, Any]:
    row = data | {"baseline_id": "bl-" + secrets.token_hex(5), "created_by": actor,
                  "created_at": datetime.now(UTC)}
    conn.execute(B.insert().values(**row))
    audit.record(conn, actor, "baseline.create", "baseline", row["baseline_id"],
                 {"name": row["name"], "start": row["start"].isoformat(), "end": row["end"].isoformat()})
    return row


def baselines(conn: Connection) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.execute(select(B).order_by(B.c.created_at)).mappings()]


def baseline(conn: Connection, baseline_id: str) -> dict[str, Any]:
    row = conn.execute(select(B).where(B.c.baseline_id == baseline_id)).mappings().first()
    if row is None:
        raise NotFound(f"baseline {baseline_id!r} not found")
    return dict(row)


def save_report(conn: Connection, report: dict[str, Any], actor: str) -> dict[str, Any]:
    report_id = "pr-" + secrets.token_hex(6)
    row = {"report_id": report_id, "created_at": datetime.now(UTC), "report": report}
    conn.execute(P.insert().values(**row))
    audit.record(conn, actor, "pilot_report.upload", "pilot_report", report_id, {})
    return row


def latest_report(conn: Connection) -> dict[str, Any] | None:
    row = conn.execute(select(P).order_by(P.c.created_at.desc()).limit(1)).mappings().first()
    return dict(row) if row else None
