"""Alerts for the API: queries and the operator side of the ISA-18.2 life cycle.

The scorer writes the process condition (``store.writes``); this module writes
only operator-owned fields, then re-derives the state, so neither side clobbers the other.
Every change writes an audit row in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, func, select

from store import schema
from store.errors import Conflict, Invalid, NotFound
from store.lifecycle import OPEN_STATES, AlertState, derive_state, facts_of
from store.repos import audit

A = schema.alerts


def now() -> datetime:
    return datetime.now(UTC)


def _filters(line: str | None, machine: str | None, priority: str | None, mode: str | None,
             start: datetime | None, end: datetime | None, lines: frozenset[str]) -> list[Any]:
    where: list[Any] = []
    if line:
        where.append(A.c.line_id == line)
    if machine:
        where.append(A.c.machine_id == machine)
    if priority:
        where.append(A.c.priority == priority)
    if mode:
        where.append(A.c.mode == mode)
    if start:
        where.append(A.c.raised_at >= start)
    if end:
        where.append(A.c.raised_at < end)
    if lines:
        where.append(A.c.line_id.in_(sorted(lines)))
    return where


def search(conn: Connection, *, line: str | None = None, machine: str | None = None, priority: str | None = None,
           states: list[str] | None = None, mode: str | None = None, start: datetime | None = None,
           end: datetime | None = None, limit: int = 100, offset: int = 0,
           lines: frozenset[str] = frozenset()) -> dict[str, Any]:
    """A page of alerts (newest first), the total, and counts per state for the same filters."""
    where = _filters(line, machine, priority, mode, start, end, lines)
    counts = {r[0]: r[1] for r in conn.execute(
        select(A.c.state, func.count()).where(and_(True, *where)).group_by(A.c.state))}
    if states:
        where.append(A.c.state.in_(states))
    total = conn.execute(select(func.count()).select_from(A).where(and_(True, *where))).scalar_one()
    rows = conn.execute(select(A).where(and_(True, *where))
                        .order_by(A.c.raised_at.desc(), A.c.alert_id).limit(limit).offset(offset)).mappings()
    return {"items": [dict(r) for r in rows], "total": total, "limit": limit, "offset": offset,
            "counts": {s.value: counts.get(s.value, 0) for s in AlertState}}


def get(conn: Connection, alert_id: str, lines: frozenset[str] = frozenset()) -> dict[str, Any]:
    row = conn.execute(select(A).where(A.c.alert_id == alert_id)).mappings().first()
    if row is None or (lines and row["line_id"] not in lines):
        raise NotFound(f"alert {alert_id!r} not found")
    return dict(row)


def open_counts(conn: Connection) -> dict[str, int]:
    """Open (unacknowledged, acknowledged, returned-unacknowledged) alerts per machine."""
    open_states = sorted(state.value for state in OPEN_STATES)
    return {r[0]: r[1] for r in conn.execute(
        select(A.c.machine_id, func.count()).where(A.c.state.in_(open_states)).group_by(A.c.machine_id))}


def active_sensor_faults(conn: Connection, machine_id: str) -> dict[str, str]:
    """Signals of a machine with an active ``sensor_fault:<signal>`` alert -> the fault (stuck, missing, …).
    The fault is the suffix the scorer puts in ``model_version`` (``signal-quality-v1:<fault>``)."""
    rows = conn.execute(select(A.c.mode, A.c.model_version).where(
        A.c.machine_id == machine_id, A.c.active.is_(True), A.c.mode.like("sensor_fault:%")))
    return {mode.split(":", 1)[1]: version.rsplit(":", 1)[-1] for mode, version in rows}


def _apply(conn: Connection, row: dict[str, Any], change: dict[str, Any], actor: str, action: str,
           detail: dict[str, Any]) -> dict[str, Any]:
    at = now()
    new = row | change
    new["state"] = derive_state(facts_of(new), at).value
    new["changed_at"] = at
    conn.execute(A.update().where(A.c.alert_id == row["alert_id"]).values(
        **change, state=new["state"], changed_at=at))
    audit.record(conn, actor, f"alert.{action}", "alert", row["alert_id"],
                 detail | {"from_state": row["state"], "to_state": new["state"]}, ts=at)
    return new


def _not_closed(row: dict[str, Any]) -> None:
    if row["resolved_at"] is not None:
        raise Conflict(f"alert {row['alert_id']} was resolved at {row['resolved_at'].isoformat()} "
                       f"by {row['resolved_by']}; it can no longer change")


def acknowledge(conn: Connection, row: dict[str, Any], actor: str) -> dict[str, Any]:
    _not_closed(row)
    if row["acknowledged_at"] is not None:
        raise Conflict(f"already acknowledged by {row['acknowledged_by']} at {row['acknowledged_at'].isoformat()}")
    return _apply(conn, row, {"acknowledged_at": now(), "acknowledged_by": actor}, actor, "acknowledge", {})


def assign(conn: Connection, row: dict[str, Any], actor: str, assignee: str) -> dict[str, Any]:
    _not_closed(row)
    return _apply(conn, row, {"assigned_to": assignee}, actor, "assign",
                  {"assignee": assignee, "previous": row["assigned_to"]})


def shelve(conn: Connection, row: dict[str, Any], actor: str, reason: str, until: datetime,
           max_shelve_s: float) -> dict[str, Any]:
    _not_closed(row)
    at = now()
    if until <= at:
        raise Invalid(f"'until' ({until.isoformat()}) must be in the future")
    if until > at + timedelta(seconds=max_shelve_s):
        raise Invalid(f"shelving is time-limited: 'until' must be within {max_shelve_s / 3600:g} h from now")
    if row["out_of_service"]:
        raise Conflict("alert is out of service; return it to service before shelving")
    return _apply(conn, row, {"shelved_until": until, "shelved_by": actor, "shelve_reason": reason}, actor, "shelve",
                  {"reason": reason, "until": until.isoformat()})


def unshelve(conn: Connection, row: dict[str, Any], actor: str, reason: str = "") -> dict[str, Any]:
    if row["shelved_until"] is None or row["shelved_until"] <= now():
        raise Conflict("alert is not shelved")
    return _apply(conn, row, {"shelved_until": None}, actor, "unshelve", {"reason": reason})


def resolve(conn: Connection, row: dict[str, Any], actor: str, outcome: str, failure_mode: str | None,
            cause: str | None, action: str | None) -> dict[str, Any]:
    _not_closed(row)
    change: dict[str, Any] = {"resolved_at": now(), "resolved_by": actor, "outcome": outcome,
                              "failure_mode": failure_mode or (row["mode"] if outcome == "confirmed_fault" else None),
                              "cause": cause, "corrective_action": action, "shelved_until": None}
    if row["acknowledged_at"] is None:  # resolving implies the operator saw it
        change |= {"acknowledged_at": change["resolved_at"], "acknowledged_by": actor}
    return _apply(conn, row, change, actor, "resolve",
                  {"outcome": outcome, "failure_mode": change["failure_mode"], "cause": cause, "action": action})


def set_service(conn: Connection, row: dict[str, Any], actor: str, in_service: bool, reason: str) -> dict[str, Any]:
    _not_closed(row)
    if row["out_of_service"] == (not in_service):
        raise Conflict("alert is already " + ("in service" if in_service else "out of service"))
    return _apply(conn, row, {"out_of_service": not in_service}, actor,
                  "return_to_service" if in_service else "out_of_service", {"reason": reason})


def add_comment(conn: Connection, row: dict[str, Any], actor: str, text: str) -> dict[str, Any]:
    at = now()
    comment = schema.alert_comments
    comment_id = conn.execute(comment.insert().values(alert_id=row["alert_id"], ts=at, author=actor, text=text)
                              .returning(comment.c.id)).scalar_one()
    audit.record(conn, actor, "alert.comment", "alert", row["alert_id"], {"text": text}, ts=at)
    return {"id": comment_id, "alert_id": row["alert_id"], "ts": at, "author": actor, "text": text}


def comments(conn: Connection, alert_id: str) -> list[dict[str, Any]]:
    c = schema.alert_comments
    query = select(c).where(c.c.alert_id == alert_id).order_by(c.c.ts, c.c.id)
    return [dict(r) for r in conn.execute(query).mappings()]


def escalate_due(conn: Connection, after_s: float, max_level: int) -> list[dict[str, Any]]:
    """Raise the escalation level of alerts unacknowledged past ``level+1`` × ``after_s``."""
    at = now()
    due = []
    rows = conn.execute(select(A).where(A.c.state == AlertState.UNACKNOWLEDGED.value,
                                        A.c.escalation_level < max_level)).mappings().all()
    for row in rows:
        if row["raised_at"] + timedelta(seconds=after_s * (row["escalation_level"] + 1)) <= at:
            level = row["escalation_level"] + 1
            conn.execute(A.update().where(A.c.alert_id == row["alert_id"],
                                          A.c.escalation_level == row["escalation_level"])
                         .values(escalation_level=level, escalated_at=at, changed_at=at))
            audit.record(conn, "system", "alert.escalate", "alert", row["alert_id"],
                         {"level": level, "unacknowledged_s": (at - row["raised_at"]).total_seconds()}, ts=at)
            due.append(dict(row) | {"escalation_level": level, "escalated_at": at, "changed_at": at})
    return due


def expire_shelves(conn: Connection) -> list[str]:
    """Return shelved alerts whose time is up to their normal state (audited as the system)."""
    at = now()
    due = select(A).where(A.c.state == AlertState.SHELVED.value, A.c.shelved_until <= at)
    rows = conn.execute(due).mappings().all()
    for row in rows:
        _apply(conn, dict(row), {"shelved_until": None}, "system", "shelve_expired", {})
    return [r["alert_id"] for r in rows]


def changed_since(conn: Connection, since: datetime, limit: int = 500) -> list[dict[str, Any]]:
    rows = conn.execute(select(A).where(A.c.changed_at > since).order_by(A.c.changed_at).limit(limit)).mappings()
    return [dict(r) for r in rows]


def counts_by_state_priority(conn: Connection) -> list[tuple[str, str, int]]:
    """(state, priority, number of alerts) for every state and priority present."""
    rows = conn.execute(select(A.c.state, A.c.priority, func.count()).group_by(A.c.state, A.c.priority)).all()
    return [(state, priority, n) for state, priority, n in rows]


@dataclass(frozen=True)
class Raised:
    """One alert raised in a period, as the alert-system KPIs need it."""

    machine_id: str
    mode: str
    priority: str
    raised_at: datetime
    active: bool
    resolved: bool


def raised_between(conn: Connection, start: datetime, end: datetime, line: str | None,
                   lines: frozenset[str]) -> list[Raised]:
    """Alerts raised in ``[start, end)`` on ``line`` (all lines if ``None``), within the caller's ``lines``."""
    q = select(A.c.machine_id, A.c.mode, A.c.priority, A.c.raised_at, A.c.active, A.c.resolved_at).where(
        A.c.raised_at >= start, A.c.raised_at < end)
    if line:
        q = q.where(A.c.line_id == line)
    if lines:
        q = q.where(A.c.line_id.in_(sorted(lines)))
    return [Raised(r.machine_id, r.mode, r.priority, r.raised_at, bool(r.active), r.resolved_at is not None)
            for r in conn.execute(q)]


def line_clock(conn: Connection, line: str | None, lines: frozenset[str]) -> datetime | None:
    """The line's own clock: its latest score or alert time (None for an empty store).

    A simulated or replayed line runs on its own time; KPI windows ending at the wall clock
    would miss it entirely.
    """
    newest = []
    for table, col in ((schema.scores, schema.scores.c.ts), (A, A.c.raised_at)):
        q = select(func.max(col))
        if line:
            q = q.where(table.c.line_id == line)
        if lines:
            q = q.where(table.c.line_id.in_(sorted(lines)))
        value = conn.execute(q).scalar()
        if value is not None:
            newest.append(value if value.tzinfo else value.replace(tzinfo=UTC))
    return max(newest) if newest else None
