"""Scores, telemetry aggregates and machine events for the asset routes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, CompoundSelect, Connection, Table, select, union_all

from contracts.messages import Factor, HealthScore
from store import schema
from store.telemetry import MinuteAggregate

SC, TM, EV = schema.scores, schema.telemetry_minutes, schema.machine_events


@dataclass(frozen=True)
class StateChange:
    """A machine's newest production-state change."""

    state: str
    since: datetime


def _newest(table: Table, order: list[ColumnElement[Any]], machine_ids: list[str],
            *where: ColumnElement[bool]) -> CompoundSelect[Any]:
    """Each listed machine's newest row of ``table`` by ``order``: one index probe per machine
    (``ORDER BY .. DESC LIMIT 1`` on the table's ``(machine_id, ts)`` key), in one statement, so
    the cost does not grow with the history kept."""
    newest_first = [c.desc() for c in order]
    parts = [select(table).where(table.c.machine_id == m, *where).order_by(*newest_first).limit(1).subquery()
             for m in machine_ids]
    return union_all(*(select(p) for p in parts))


def _machines(conn: Connection, table: Table, machine_ids: list[str] | None) -> list[str]:
    if machine_ids is not None:
        return list(dict.fromkeys(machine_ids))
    return list(conn.execute(select(table.c.machine_id).distinct()).scalars())


def latest_scores(conn: Connection, machine_ids: list[str] | None = None) -> dict[str, HealthScore]:
    """The newest score per machine (any model version), as the scorer wrote it (``payload``).
    Pass the machines (the plant's) to avoid a scan for the distinct ids."""
    ids = _machines(conn, SC, machine_ids)
    if not ids:
        return {}
    # equal newest ts under two model versions: the later ingested wins
    rows = conn.execute(_newest(SC, [SC.c.ts, SC.c.ingested_at], ids)).mappings()
    return {r["machine_id"]: HealthScore.model_validate(r["payload"]) for r in rows}


def latest_factors(conn: Connection, machine_id: str, limit: int = 50) -> list[Factor]:
    """Top factors of the machine's newest explained score among its last ``limit``: the
    scorer explains only every N-th window and those that move an alert (docs/scoring.md)."""
    rows = conn.execute(select(SC.c.payload).where(SC.c.machine_id == machine_id)
                        .order_by(SC.c.ts.desc()).limit(limit)).scalars()
    for payload in rows:
        factors = (payload or {}).get("top_factors") or []
        if factors:
            return [Factor.model_validate(f) for f in factors]
    return []


def latest_minutes(conn: Connection, machine_ids: list[str] | None = None) -> dict[str, MinuteAggregate]:
    """The newest telemetry minute per machine (last values and production state)."""
    ids = _machines(conn, TM, machine_ids)
    if not ids:
        return {}
    rows = conn.execute(_newest(TM, [TM.c.minute], ids)).mappings()
    return {r["machine_id"]: MinuteAggregate(r["machine_id"], r["minute"], r["n_samples"], r["last_ts"], r["state"],
                                             r["signals"]) for r in rows}


def latest_states(conn: Connection, machine_ids: list[str] | None = None) -> dict[str, StateChange]:
    """The newest state change per machine."""
    ids = _machines(conn, EV, machine_ids)
    if not ids:
        return {}
    rows = conn.execute(_newest(EV, [EV.c.ts], ids, EV.c.kind == "state_changed")).mappings()
    return {r["machine_id"]: StateChange(r["to_state"], r["ts"]) for r in rows}


def _buckets(start: datetime, end: datetime, n: int) -> float:
    return max((end - start).total_seconds() / n, 1e-6)


def score_history(conn: Connection, machine_id: str, start: datetime, end: datetime, max_points: int) -> dict[str, Any]:
    """Scores in [start, end), averaged into at most ``max_points`` time buckets.

    A bucket keeps the mean and the worst (minimum) health, the highest failure probability
    and defect risk, and the shortest RUL, so downsampling never hides a bad moment.
    """
    rows = conn.execute(select(SC.c.ts, SC.c.health, SC.c.max_failure_probability, SC.c.rul_hours, SC.c.defect_risk,
                               SC.c.anomaly_score, SC.c.model_version)
                        .where(SC.c.machine_id == machine_id, SC.c.ts >= start, SC.c.ts < end).order_by(SC.c.ts)).all()
    width = _buckets(start, end, max_points)
    groups: dict[int, list[Any]] = {}
    for r in rows:
        groups.setdefault(int((r.ts - start).total_seconds() // width), []).append(r)
    points = []
    for _, grp in sorted(groups.items()):
        ruls = [r.rul_hours for r in grp if r.rul_hours is not None]
        risks = [r.defect_risk for r in grp if r.defect_risk is not None]
        points.append({"ts": grp[-1].ts, "n": len(grp), "health": sum(r.health for r in grp) / len(grp),
                       "health_min": min(r.health for r in grp),
                       "max_failure_probability": max(r.max_failure_probability for r in grp),
                       "rul_hours": min(ruls) if ruls else None, "defect_risk": max(risks) if risks else None,
                       "model_version": grp[-1].model_version})
    return {"machine_id": machine_id, "from": start, "to": end, "raw_points": len(rows), "points": points}


def telemetry_history(conn: Connection, machine_id: str, signals: list[str] | None, start: datetime, end: datetime,
                      max_points: int) -> dict[str, Any]:
    """Per-signal mean/min/max in at most ``max_points`` buckets from the minute aggregates."""
    rows = conn.execute(select(TM.c.minute, TM.c.signals).where(TM.c.machine_id == machine_id, TM.c.minute >= start,
                                                                TM.c.minute < end).order_by(TM.c.minute)).all()
    width = _buckets(start, end, max_points)
    out: dict[str, dict[int, list[float]]] = {}
    stamps: dict[int, datetime] = {}
    for r in rows:
        b = int((r.minute - start).total_seconds() // width)
        stamps.setdefault(b, r.minute)
        for name, (n, total, low, high, _last) in r.signals.items():
            if signals and name not in signals:
                continue
            agg = out.setdefault(name, {}).setdefault(b, [0, 0.0, low, high])
            agg[0] += n
            agg[1] += total
            agg[2], agg[3] = min(agg[2], low), max(agg[3], high)
    series = {name: [{"ts": stamps[b], "mean": a[1] / a[0], "min": a[2], "max": a[3], "n": a[0]}
                     for b, a in sorted(buckets.items())] for name, buckets in sorted(out.items())}
    return {"machine_id": machine_id, "from": start, "to": end, "signals": series}


def events(conn: Connection, machine_id: str, kinds: list[str] | None, start: datetime | None, end: datetime | None,
           limit: int, offset: int) -> list[dict[str, Any]]:
    q = select(EV).where(EV.c.machine_id == machine_id)
    if kinds:
        q = q.where(EV.c.kind.in_(kinds))
    if start:
        q = q.where(EV.c.ts >= start)
    if end:
        q = q.where(EV.c.ts < end)
    return [dict(r) for r in conn.execute(q.order_by(EV.c.ts.desc()).limit(limit).offset(offset)).mappings()]
