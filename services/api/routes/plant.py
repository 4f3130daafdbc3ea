"""Plant tree, machine detail, score and telemetry history, machine events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Response
from starlette.concurrency import run_in_threadpool

from contracts.messages import HealthScore
from contracts.plant import Machine
from pipelines.health.score import band
from pipelines.health.text import factor_sentence
from services.api.deps import Ctx, Scope, Viewer
from services.api.readcache import json_body
from services.api.schemas.assets import EventPublic, MachineDetail, PlantPublic, ScoreHistory, TelemetryHistory
from services.api.scope import LineScope
from store.repos import alerts as alerts_repo
from store.repos import assets
from store.repos.assets import StateChange
from store.telemetry import MinuteAggregate

router = APIRouter(tags=["plant"])
From = Annotated[datetime | None, Query(alias="from", description="Start (UTC, ISO 8601 with offset)")]
To = Annotated[datetime | None, Query(alias="to", description="End, exclusive (default: now)")]
MaxPoints = Annotated[int, Query(ge=2, le=5000, description="Downsample to at most this many points")]
KINDS = ("part_completed", "failure", "maintenance_done", "state_changed", "plc_alarm")


def _range(start: datetime | None, end: datetime | None, default: timedelta) -> tuple[datetime, datetime]:
    for value, name in ((start, "from"), (end, "to")):
        if value is not None and value.tzinfo is None:
            raise HTTPException(422, f"'{name}' needs a UTC offset, e.g. 2026-01-05T08:00:00Z")
    end = end or datetime.now(UTC)
    start = start or end - default
    if end <= start:
        raise HTTPException(422, "'to' must be after 'from'")
    return start, end


def _machine(ctx: Ctx, scope: LineScope, line: str, machine: str) -> Machine:
    machine_id = f"{line}/{machine}"
    scope.require_machine(machine_id)  # same answer as an unknown machine
    try:
        return ctx.plant.machine(machine_id)
    except KeyError:
        raise HTTPException(404, f"no machine {machine_id!r} in plant {ctx.plant.id!r}") from None


def _components(m: Machine, score: HealthScore | None) -> list[dict]:
    health = score.component_health if score else {}
    return [{"id": c.id, "name": c.name, "name_zh": c.name_zh, "failure_modes": c.failure_modes,
             "health": health.get(c.id)} for c in m.components]


def _state(minute: MinuteAggregate | None, change: StateChange | None) -> str | None:
    """The state of the newest telemetry minute, else of the newest state change."""
    return minute.state if minute else change.state if change else None


@router.get("/plant", response_model=PlantPublic, summary="Plant → lines → machines → components with current health")
async def plant(ctx: Ctx, who: Viewer, scope: Scope) -> Response:
    key = ("plant", scope.lines)
    body = ctx.read_cache.peek(key) or await run_in_threadpool(
        ctx.read_cache.get, key, lambda: json_body(PlantPublic, _plant_tree(ctx, scope)))
    return Response(body, media_type="application/json")


def _plant_tree(ctx: Ctx, scope: LineScope) -> dict:
    machine_ids = scope.machines()
    with ctx.read() as conn:
        scores, minutes = assets.latest_scores(conn, machine_ids), assets.latest_minutes(conn, machine_ids)
        states, open_alerts = assets.latest_states(conn, machine_ids), alerts_repo.open_counts(conn)
    lines = []
    for line in ctx.plant.lines:
        if not scope.sees_line(line.id):
            continue
        machines = []
        for m in line.machines:
            s = scores.get(m.id)
            machines.append({"id": m.id, "machine_id": m.id, "kind": m.kind, "name": m.name, "name_zh": m.name_zh,
                             "health": s.health if s else None, "band": band(s.health).value if s else None,
                             "state": _state(minutes.get(m.id), states.get(m.id)),
                             "open_alerts": open_alerts.get(m.id, 0), "last_score_at": s.ts if s else None,
                             "components": _components(m, s)})
        lines.append({"id": line.id, "name": line.name, "name_zh": line.name_zh, "machines": machines})
    return {"id": ctx.plant.id, "name": ctx.plant.name, "name_zh": ctx.plant.name_zh, "lines": lines}


def _sensors(m: Machine, minute: MinuteAggregate | None, faults: dict[str, str]) -> list[dict]:
    out = []
    for s in m.sensors:
        agg = minute.signal(s.name) if minute else None
        value = agg.last if agg else None
        out.append({"name": s.name, "unit": s.unit, "label_en": s.label_en, "label_zh": s.label_zh,
                    "normal_low": s.normal_low, "normal_high": s.normal_high, "value": value,
                    "mean_1m": agg.mean if agg else None, "ts": minute.last_ts if minute and agg else None,
                    "in_normal_range": None if value is None else s.normal_low <= value <= s.normal_high,
                    "fault": faults.get(s.name)})
    return out


@router.get("/lines/{line}/machines/{machine}", response_model=MachineDetail,
            summary="Machine detail: sensors vs normal, latest score per mode, RUL interval, defect risk, why")
def machine_detail(line: str, machine: str, ctx: Ctx, who: Viewer, scope: Scope) -> dict:
    m = _machine(ctx, scope, line, machine)
    with ctx.read() as conn:
        s = assets.latest_scores(conn, [m.id]).get(m.id)
        minute = assets.latest_minutes(conn, [m.id]).get(m.id)
        change = assets.latest_states(conn, [m.id]).get(m.id)
        open_alerts = alerts_repo.open_counts(conn).get(m.id, 0)
        sensor_faults = alerts_repo.active_sensor_faults(conn, m.id)
        factors = (s.top_factors or assets.latest_factors(conn, m.id)) if s else []
    en, zh = factor_sentence(factors)
    return {"machine_id": m.id, "line_id": m.line_id, "kind": m.kind, "name": m.name, "name_zh": m.name_zh,
            "vendor": m.vendor, "model": m.model, "state": _state(minute, change), **_score_fields(s),
            "explanation": {"factors": [f.model_dump(mode="json") for f in factors], "sentence_en": en,
                            "sentence_zh": zh},
            "sensors": _sensors(m, minute, sensor_faults), "components": _components(m, s),
            "open_alerts": open_alerts}


def _score_fields(s: HealthScore | None) -> dict:
    """MachineDetail's fields from the newest score (all null, maps empty, before the first one)."""
    if s is None:
        return {"health": None, "band": None, "component_health": {}, "horizon_hours": None,
                "failure_probability": {}, "no_skill_modes": [], "rul_hours": None, "rul_low_hours": None,
                "rul_high_hours": None, "rul_mode": None, "defect_risk": None, "anomaly_score": None,
                "model_version": None, "scored_at": None}
    return {"health": s.health, "band": band(s.health).value, "component_health": s.component_health,
            "horizon_hours": s.horizon_hours, "failure_probability": s.failure_probability,
            "no_skill_modes": s.no_skill_modes,
            "rul_hours": s.rul_hours, "rul_low_hours": s.rul_low_hours, "rul_high_hours": s.rul_high_hours,
            "rul_mode": s.rul_mode, "defect_risk": s.defect_risk, "anomaly_score": s.anomaly_score,
            "model_version": s.model_version, "scored_at": s.ts}


@router.get("/lines/{line}/machines/{machine}/scores", response_model=ScoreHistory,
            summary="Score history, downsampled (default: last 24 h, 500 points)")
def scores(line: str, machine: str, ctx: Ctx, who: Viewer, scope: Scope, start: From = None, end: To = None,
           max_points: MaxPoints = 500) -> dict:
    m = _machine(ctx, scope, line, machine)
    lo, hi = _range(start, end, timedelta(hours=24))
    with ctx.read() as conn:
        return assets.score_history(conn, m.id, lo, hi, max_points)


@router.get("/lines/{line}/machines/{machine}/telemetry", response_model=TelemetryHistory,
            summary="Telemetry trend from per-minute aggregates (default: last 6 h, 500 points)")
def telemetry(line: str, machine: str, ctx: Ctx, who: Viewer, scope: Scope,
              signals: Annotated[str | None, Query(max_length=2000, description="Comma-separated signal names",
                                                   examples=["spindle_power_kw,spindle_vibration_rms_mm_s"])] = None,
              start: From = None, end: To = None, max_points: MaxPoints = 500) -> dict:
    m = _machine(ctx, scope, line, machine)
    wanted = [s.strip() for s in signals.split(",") if s.strip()] if signals else None
    known = {s.name for s in m.sensors}
    if wanted and (unknown := sorted(set(wanted) - known)):
        raise HTTPException(422, f"unknown signal(s) {unknown} for {m.id}; known: {sorted(known)}")
    lo, hi = _range(start, end, timedelta(hours=6))
    with ctx.read() as conn:
        return assets.telemetry_history(conn, m.id, wanted, lo, hi, max_points)


@router.get("/lines/{line}/machines/{machine}/events", response_model=list[EventPublic],
            summary="Machine events: maintenance history, failures, state changes, parts")
def events(line: str, machine: str, ctx: Ctx, who: Viewer, scope: Scope,
           kind: Annotated[str | None, Query(max_length=200,
                                             description=f"Comma-separated: {', '.join(KINDS)}")] = None,
           start: From = None, end: To = None, limit: Annotated[int, Query(ge=1, le=5000)] = 200,
           offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> list[dict]:
    m = _machine(ctx, scope, line, machine)
    kinds = [k.strip() for k in kind.split(",") if k.strip()] if kind else None
    if kinds and (unknown := sorted(set(kinds) - set(KINDS))):
        raise HTTPException(422, f"unknown kind(s) {unknown}; expected {list(KINDS)}")
    if start or end:
        start, end = _range(start, end, timedelta(days=365 * 20))
    with ctx.read() as conn:
        return assets.events(conn, m.id, kinds, start, end, limit, offset)
