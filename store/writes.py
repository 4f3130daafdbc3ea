"""Idempotent upserts the pipelines call (replaying a Kafka topic never duplicates a row).

Every function takes an open SQLAlchemy ``Connection`` inside a transaction; ``Store``
wraps them in one transaction per call.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Table, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite

from contracts.messages import SUPPRESSING_MACHINE_STATES, AlertAction, AlertEvent, HealthScore, TelemetrySample
from store import schema
from store.lifecycle import derive_state, facts_of
from store.telemetry import MinuteAggregate, group_by_minute


def line_of(machine_id: str) -> str:
    """The line part of a ``<line>/<machine>`` id."""
    return machine_id.split("/", 1)[0]


def utcnow() -> datetime:
    return datetime.now(UTC)


def _insert(conn: Connection, table: Table) -> postgresql.Insert | sqlite.Insert:
    """INSERT with the dialect's ``ON CONFLICT`` (both have the same upsert API)."""
    return postgresql.insert(table) if conn.dialect.name == "postgresql" else sqlite.insert(table)


def _upsert(conn: Connection, table: Table, rows: list[dict[str, Any]], keys: list[str]) -> int:
    if not rows:
        return 0
    stmt = _insert(conn, table)
    update = {c.name: stmt.excluded[c.name] for c in table.columns if c.name not in keys}
    conn.execute(stmt.on_conflict_do_update(index_elements=keys, set_=update), rows)
    return len(rows)


def upsert_scores(conn: Connection, scores: Iterable[HealthScore]) -> int:
    """Insert or replace scores keyed by machine + window end + model version."""
    now = utcnow()
    rows = {}
    for s in scores:
        rows[(s.machine_id, s.ts, s.model_version)] = {
            "machine_id": s.machine_id, "ts": s.ts, "model_version": s.model_version, "score_id": s.score_id,
            "line_id": line_of(s.machine_id), "health": s.health,
            "max_failure_probability": max(s.failure_probability.values(), default=0.0),
            "rul_hours": s.rul_hours, "rul_low_hours": s.rul_low_hours, "rul_high_hours": s.rul_high_hours,
            "rul_mode": s.rul_mode, "defect_risk": s.defect_risk, "anomaly_score": s.anomaly_score,
            "payload": s.model_dump(mode="json"), "ingested_at": now,
        }
    return _upsert(conn, schema.scores, list(rows.values()), ["machine_id", "ts", "model_version"])


def upsert_events(conn: Connection, events: Iterable[Any]) -> int:
    """Insert or replace machine events (any ``MachineEvent`` kind) keyed by ``event_id``."""
    rows = {}
    for e in events:
        row: dict[str, Any] = dict.fromkeys(
            c.name for c in schema.machine_events.columns)
        row.update(event_id=e.event_id, machine_id=e.machine_id, line_id=line_of(e.machine_id), ts=e.ts,
                   kind=e.kind, payload=e.model_dump(mode="json"))
        row.update(_event_columns(e))
        rows[e.event_id] = row
    return _upsert(conn, schema.machine_events, list(rows.values()), ["event_id"])


def _event_columns(e: Any) -> dict[str, Any]:
    if e.kind == "part_completed":
        return {"part_good": e.good, "energy_kwh": e.energy_kwh, "cycle_time_s": e.cycle_time_s,
                "ideal_cycle_time_s": e.ideal_cycle_time_s, "defect_type": e.defect_type}
    if e.kind == "failure":
        return {"failure_mode": e.mode, "component": e.component, "reason": e.description[:200]}
    if e.kind == "maintenance_done":
        return {"action": e.action, "component": e.component, "planned": e.planned, "duration_s": e.duration_s,
                "reason": e.reason, "parts_cost": e.parts_cost, "command_id": e.command_id}
    if e.kind == "state_changed":
        return {"from_state": e.from_state.value, "to_state": e.to_state.value, "reason": e.reason[:200]}
    return {"code": e.code, "severity": e.severity, "reason": e.text[:200], "text_en": e.text[:500],  # plc_alarm
            "text_zh": e.text_zh[:500], "active": e.active}


def machine_state_at(conn: Connection, machine_id: str, ts: datetime) -> str | None:
    """The machine's production state at ``ts`` from its latest state change (None if unknown)."""
    t = schema.machine_events
    return conn.execute(
        select(t.c.to_state).where(t.c.machine_id == machine_id, t.c.kind == "state_changed", t.c.ts <= ts)
        .order_by(t.c.ts.desc()).limit(1)).scalar()


def _scorer_fields(a: AlertEvent) -> dict[str, Any]:
    return {"priority": a.priority, "probability": a.probability, "rul_hours": a.rul_hours,
            "model_version": a.model_version, "message_en": a.message_en, "message_zh": a.message_zh,
            "recommended_action": a.recommended_action, "scorer_ts": a.ts,
            "top_factors": [f.model_dump(mode="json") for f in a.top_factors]}


def upsert_alert_event(conn: Connection, a: AlertEvent) -> str:
    """Apply one scorer alert event; returns ``inserted``, ``updated`` or ``stale``.

    Only scorer-side fields change; acknowledgement, assignment, shelving, resolution and
    escalation are kept. An event older than the last one applied is a replay: ignored.
    """
    t = schema.alerts
    now = utcnow()
    row = conn.execute(select(t).where(t.c.alert_id == a.alert_id)).mappings().first()
    if row is None:
        machine_state = machine_state_at(conn, a.machine_id, a.ts)
        new = {c.name: None for c in t.columns} | _scorer_fields(a) | {
            "alert_id": a.alert_id, "machine_id": a.machine_id, "line_id": line_of(a.machine_id), "mode": a.mode,
            "raised_at": a.ts, "active": a.action != AlertAction.CLEARED,
            "cleared_at": a.ts if a.action == AlertAction.CLEARED else None,
            "suppressed": machine_state in SUPPRESSING_MACHINE_STATES, "out_of_service": False,
            "escalation_level": 0, "changed_at": now}
        new["state"] = derive_state(facts_of(new), now).value
        stmt = _insert(conn, t).values(**new).on_conflict_do_nothing(index_elements=["alert_id"])
        if conn.execute(stmt.returning(t.c.alert_id)).scalar() is not None:
            return "inserted"
        row = conn.execute(select(t).where(t.c.alert_id == a.alert_id)).mappings().one()  # lost a race
    if a.ts < row["scorer_ts"]:
        return "stale"
    change = _scorer_fields(a) | {"changed_at": now}
    if a.action == AlertAction.CLEARED:
        change |= {"active": False, "cleared_at": row["cleared_at"] or a.ts}
    else:
        change |= {"active": True, "cleared_at": None}
    change["state"] = derive_state(facts_of(dict(row) | change), now).value
    conn.execute(t.update().where(t.c.alert_id == a.alert_id).values(**change))
    return "updated"


def upsert_alert_events(conn: Connection, events: Iterable[AlertEvent]) -> dict[str, int]:
    """Apply scorer alert events in time order; returns counts per outcome."""
    counts = {"inserted": 0, "updated": 0, "stale": 0}
    for a in sorted(events, key=lambda e: e.ts):
        counts[upsert_alert_event(conn, a)] += 1
    return counts


def upsert_telemetry(conn: Connection, samples: Iterable[TelemetrySample]) -> int:
    """Merge samples into per-minute aggregates (key machine + minute); returns samples merged."""
    groups = group_by_minute(list(samples))
    if not groups:
        return 0
    t = schema.telemetry_minutes
    existing = {(r.machine_id, r.minute): r for r in conn.execute(
        select(t).where(tuple_(t.c.machine_id, t.c.minute).in_(list(groups))))}
    rows, merged = [], 0
    for (machine_id, minute), group in groups.items():
        old = existing.get((machine_id, minute))
        agg = MinuteAggregate(machine_id, minute)
        if old is not None:
            agg = MinuteAggregate(machine_id, minute, old.n_samples, old.last_ts, old.state,
                                  {k: list(v) for k, v in old.signals.items()})
        added = sum(agg.add(s) for s in group)
        if added:
            merged += added
            rows.append({"machine_id": machine_id, "minute": minute, "line_id": line_of(machine_id),
                         "n_samples": agg.n_samples, "last_ts": agg.last_ts, "state": agg.state,
                         "signals": agg.signals})
    _upsert(conn, t, rows, ["machine_id", "minute"])
    return merged
