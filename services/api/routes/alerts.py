"""Alerts: list and filter, detail with rationale and audit, the ISA-18.2 operator actions,
and the alert-system KPIs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Response
from starlette.concurrency import run_in_threadpool

from services.api import notify
from services.api.alert_quality import RaisedAlert, alert_kpis
from services.api.deps import Ctx, Engineer, Operator, Scope, Viewer
from services.api.rationale import rationale
from services.api.readcache import json_body
from services.api.schemas.alerts import (
    AlertDetail,
    AlertKpisPublic,
    AlertPage,
    AlertPublic,
    AssignCreate,
    AuditPublic,
    CommentCreate,
    CommentPublic,
    ReasonCreate,
    ResolveCreate,
    ShelveCreate,
)
from services.api.scope import LineScope
from store.lifecycle import AlertState
from store.repos import alerts as repo
from store.repos import audit
from store.repos import work_orders as wo_repo

router = APIRouter(tags=["alerts"])
Priority = Literal["low", "medium", "high"]
From = Annotated[datetime | None, Query(alias="from", description="Raised at or after (UTC)")]
To = Annotated[datetime | None, Query(alias="to", description="Raised before (UTC)")]
AlertId = Annotated[str, Query(max_length=400)]


def _aware(*values: datetime | None) -> None:
    if any(v is not None and v.tzinfo is None for v in values):
        raise HTTPException(422, "times need a UTC offset, e.g. 2026-01-05T08:00:00Z")


@router.get("/alerts", response_model=AlertPage, summary="List alerts (newest first) with filters and state counts")
async def list_alerts(ctx: Ctx, who: Viewer, scope: Scope, line: Annotated[str | None, Query(max_length=100)] = None,
                machine: Annotated[str | None, Query(max_length=200, examples=["line-1/cnc-01"])] = None,
                priority: Priority | None = None,
                state: Annotated[str | None, Query(max_length=300, description="Comma-separated states",
                                                   examples=["unacknowledged,acknowledged"])] = None,
                mode: Annotated[str | None, Query(max_length=100)] = None, start: From = None, end: To = None,
                limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> Response:
    _aware(start, end)
    states = [s.strip() for s in state.split(",") if s.strip()] if state else None
    if states and (bad := sorted(set(states) - {s.value for s in AlertState})):
        raise HTTPException(422, f"unknown state(s) {bad}; expected {[s.value for s in AlertState]}")
    key = ("alerts", scope.lines, line, machine, priority, tuple(states or ()), mode, start, end, limit, offset)

    def page() -> bytes:
        with ctx.read() as conn:
            return json_body(AlertPage, repo.search(conn, line=line, machine=machine, priority=priority, states=states,
                                                    mode=mode, start=start, end=end, limit=limit, offset=offset,
                                                    lines=scope.lines))

    body = ctx.read_cache.peek(key) or await run_in_threadpool(ctx.read_cache.get, key, page)
    return Response(body, media_type="application/json")


@router.get("/alerts/{alert_id:path}/audit", response_model=list[AuditPublic], summary="Audit trail of one alert")
def alert_audit(alert_id: str, ctx: Ctx, who: Viewer, scope: Scope) -> list[dict]:
    with ctx.read() as conn:
        repo.get(conn, alert_id, scope.lines)
        return audit.entries(conn, "alert", alert_id)


def _detail(conn, row: dict) -> dict:
    return row | {"rationale": rationale(row["mode"]), "comments": repo.comments(conn, row["alert_id"]),
                  "audit": audit.entries(conn, "alert", row["alert_id"]),
                  "work_orders": wo_repo.search(conn, None, None, row["alert_id"], 50, 0, frozenset({row["line_id"]}))}


def _act(ctx: Ctx, alert_id: str, who, scope: LineScope, action: str, fn, *args) -> dict:
    with ctx.write() as conn:
        row = repo.get(conn, alert_id, scope.lines)
        new = fn(conn, row, who.name, *args)
        if action == "resolve":
            notify.enqueue(conn, "alert.resolved", new)
    ctx.metrics.alert_actions.labels(action).inc()
    return new


# Actions are declared before the catch-all GET so that ids containing '/' route correctly.
@router.post("/alerts/{alert_id:path}/acknowledge", response_model=AlertPublic, summary="Acknowledge (operator)")
def acknowledge(alert_id: str, ctx: Ctx, who: Operator, scope: Scope) -> dict:
    return _act(ctx, alert_id, who, scope, "acknowledge", repo.acknowledge)


@router.post("/alerts/{alert_id:path}/assign", response_model=AlertPublic, summary="Assign to a person (operator)")
def assign(alert_id: str, body: AssignCreate, ctx: Ctx, who: Operator, scope: Scope) -> dict:
    return _act(ctx, alert_id, who, scope, "assign", repo.assign, body.assignee)


@router.post("/alerts/{alert_id:path}/shelve", response_model=AlertPublic,
             summary="Shelve until a time with a reason (operator; time-limited, audited)")
def shelve(alert_id: str, body: ShelveCreate, ctx: Ctx, who: Operator, scope: Scope) -> dict:
    return _act(ctx, alert_id, who, scope, "shelve", repo.shelve, body.reason, body.until, ctx.settings.max_shelve_s)


@router.post("/alerts/{alert_id:path}/unshelve", response_model=AlertPublic, summary="Unshelve (operator)")
def unshelve(alert_id: str, body: ReasonCreate, ctx: Ctx, who: Operator, scope: Scope) -> dict:
    return _act(ctx, alert_id, who, scope, "unshelve", repo.unshelve, body.reason)


@router.post("/alerts/{alert_id:path}/resolve", response_model=AlertPublic,
             summary="Resolve with an outcome (operator); becomes a training label")
def resolve(alert_id: str, body: ResolveCreate, ctx: Ctx, who: Operator, scope: Scope) -> dict:
    return _act(ctx, alert_id, who, scope, "resolve", repo.resolve, body.outcome, body.failure_mode, body.cause,
                body.action)


@router.post("/alerts/{alert_id:path}/out-of-service", response_model=AlertPublic,
             summary="Take out of service (engineer; e.g. sensor known broken)")
def out_of_service(alert_id: str, body: ReasonCreate, ctx: Ctx, who: Engineer, scope: Scope) -> dict:
    return _act(ctx, alert_id, who, scope, "out_of_service", repo.set_service, False, body.reason)


@router.post("/alerts/{alert_id:path}/return-to-service", response_model=AlertPublic,
             summary="Return to service (engineer)")
def return_to_service(alert_id: str, body: ReasonCreate, ctx: Ctx, who: Engineer, scope: Scope) -> dict:
    return _act(ctx, alert_id, who, scope, "return_to_service", repo.set_service, True, body.reason)


@router.post("/alerts/{alert_id:path}/comments", response_model=CommentPublic, status_code=201,
             summary="Comment on an alert (operator)")
def comment(alert_id: str, body: CommentCreate, ctx: Ctx, who: Operator, scope: Scope) -> dict:
    with ctx.write() as conn:
        return repo.add_comment(conn, repo.get(conn, alert_id, scope.lines), who.name, body.text)


@router.get("/alerts/{alert_id:path}", response_model=AlertDetail,
            summary="One alert with rationale (cause, consequence, action, time to respond), comments, audit")
def get_alert(alert_id: str, ctx: Ctx, who: Viewer, scope: Scope) -> dict:
    with ctx.read() as conn:
        return _detail(conn, repo.get(conn, alert_id, scope.lines))


kpi_router = APIRouter(tags=["alerts"])


@kpi_router.get("/alert-system/kpis", response_model=AlertKpisPublic, response_model_by_alias=True,
                summary="Alert-system health (ISA-18.2 / EEMUA 191): rate, flood, chattering, stale, top-10, "
                        "priorities")
def alert_system_kpis(ctx: Ctx, who: Viewer, scope: Scope, line: Annotated[str | None, Query(max_length=100)] = None,
                      start: From = None, end: To = None) -> dict:
    _aware(start, end)
    with ctx.read() as conn:
        # the line's own clock (latest score or alert), not the wall clock: a simulated line runs on its own time
        clock = repo.line_clock(conn, line, who.lines)
        now = clock + timedelta(microseconds=1) if clock else datetime.now(UTC)
        end = end or now
        start = start or end - timedelta(days=30)
        if end <= start:
            raise HTTPException(422, "'to' must be after 'from'")
        rows = [RaisedAlert(r.machine_id, r.mode, r.priority, r.raised_at, r.active, r.resolved)
                for r in repo.raised_between(conn, start, end, line, scope.lines)]
    return alert_kpis(rows, start, end, now)
