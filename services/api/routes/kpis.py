"""Plant KPIs (ISO 22400-2) with named baselines, the pilot report, and the model registry."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query

from pipelines.kpis import compute_kpis, improvements
from services.api.deps import Ctx, Engineer, PlantWide, Scope, Viewer
from services.api.schemas.pilot import PilotReportIn
from services.api.schemas.work import BaselineCreate, BaselinePublic, KpiReport
from services.api.scope import LineScope
from store.repos import audit, kpi_data

router = APIRouter(tags=["kpis"])
models_router = APIRouter(tags=["models"])
KpiScope = Literal["plant", "line", "machine"]


def _machines(ctx: Ctx, caller: LineScope, scope: KpiScope, scope_id: str | None) -> list[str]:
    """The machines a KPI scope covers, restricted to the caller's lines (plant scope: theirs only)."""
    if scope == "plant":
        return caller.machines()
    if not scope_id:
        raise HTTPException(422, f"scope={scope} needs id")
    if scope == "line":
        caller.require_line(scope_id)
    else:
        caller.require_machine(scope_id)
    try:
        if scope == "line":
            return [m.id for m in ctx.plant.line(scope_id).machines]
        return [ctx.plant.machine(scope_id).id]
    except KeyError as exc:
        raise HTTPException(404, str(exc.args[0])) from None


def _kpis(ctx: Ctx, caller: LineScope, scope: KpiScope, scope_id: str | None, start: datetime, end: datetime):
    machines = _machines(ctx, caller, scope, scope_id)
    with ctx.read() as conn:
        events = kpi_data.events_frame(conn, start, end, machines)
        alerts = kpi_data.alerts_frame(conn, start, end, machines)
    key = scope_id if scope != "plant" else "plant"
    # Only machines that reported something count: a machine never connected must not add
    # "running" time. With no data at all the engine still answers for the listed machines.
    result = compute_kpis(events, alerts=alerts, start=start, end=end, scope=scope)
    if key not in result:
        result = compute_kpis(events, alerts=alerts, start=start, end=end, scope=scope, machines=machines)
    return result[key]


@router.get("/kpis", response_model=KpiReport,
            summary="ISO 22400-2 KPIs over a range; with baseline_id, improvements with formula and inputs")
def kpis(ctx: Ctx, who: Viewer, caller: Scope, scope: KpiScope = "plant",
         id: Annotated[str | None, Query(max_length=200)] = None,
         start: Annotated[datetime | None, Query(alias="from")] = None,
         end: Annotated[datetime | None, Query(alias="to")] = None,
         baseline_id: Annotated[str | None, Query(max_length=40)] = None) -> dict:
    if any(v is not None and v.tzinfo is None for v in (start, end)):
        raise HTTPException(422, "times need a UTC offset")
    end = end or datetime.now(UTC)
    start = start or end - timedelta(days=7)
    if end <= start:
        raise HTTPException(422, "'to' must be after 'from'")
    now = _kpis(ctx, caller, scope, id, start, end)
    out: dict[str, Any] = {"scope": scope, "id": id, "kpis": now.model_dump(mode="json")}
    if baseline_id:
        with ctx.read() as conn:
            base_row = kpi_data.baseline(conn, baseline_id)
        base = _kpis(ctx, caller, scope, id, base_row["start"], base_row["end"])
        out |= {"baseline": base_row, "baseline_kpis": base.model_dump(mode="json"),
                "improvements": [i.model_dump(mode="json") for i in improvements(base, now, base_row["name"])]}
    return out


@router.get("/baselines", response_model=list[BaselinePublic], summary="Stored baseline periods")
def list_baselines(ctx: Ctx, who: Viewer, caller: Scope) -> list[dict]:
    with ctx.read() as conn:
        rows = kpi_data.baselines(conn)
    return [r for r in rows if r["scope"] == "plant" or caller.sees_machine(r["scope_id"])]


@router.post("/baselines", response_model=BaselinePublic, status_code=201, summary="Store a baseline period (engineer)")
def create_baseline(body: BaselineCreate, ctx: Ctx, who: Engineer, caller: Scope) -> dict:
    if body.scope != "plant":
        _machines(ctx, caller, body.scope, body.scope_id)
    with ctx.write() as conn:
        return kpi_data.create_baseline(conn, body.model_dump(), who.name)


@router.get("/pilot/reports/latest", response_model=dict[str, Any],
            summary="The pilot's own latest report (the file `linewatch pilot` wrote), else the newest upload",
            responses={404: {"description": "no pilot report yet"}})
def latest_pilot_report(ctx: Ctx, who: Viewer, plant_wide: PlantWide) -> dict:
    path = ctx.settings.pilot_report_path
    if path and path.is_file():
        try:
            report = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise HTTPException(502, f"pilot report {path.name} is not valid JSON: {exc}") from None
        return report | {"source": f"linewatch pilot ({path.name})", "uploaded_by": None}
    with ctx.read() as conn:
        row = kpi_data.latest_report(conn)
    if row:
        return row["report"] | {"report_id": row["report_id"], "stored_at": row["created_at"].isoformat()}
    raise HTTPException(404, "no pilot report yet: run `linewatch pilot`")


@router.post("/pilot/reports", response_model=dict[str, str], status_code=201,
             summary="Store a pilot report (engineer); validated against the report schema, labelled with uploader "
                     "and source")
def store_pilot_report(body: PilotReportIn, ctx: Ctx, who: Engineer, plant_wide: PlantWide,
                       source: Annotated[str, Query(min_length=1, max_length=200,
                                                    description="Where the report comes from, "
                                                                "e.g. 'line-1 pilot 2026-03'")]
                       = "upload") -> dict:
    report = body.model_dump(mode="json") | {"source": source, "uploaded_by": who.name}
    with ctx.write() as conn:
        row = kpi_data.save_report(conn, report, who.name)
    return {"report_id": row["report_id"]}


def _registry(ctx: Ctx):
    from pipelines.models.registry import Registry  # the training engineer's registry

    return Registry(ctx.settings.registry_dir)


@models_router.get("/models", response_model=list[dict[str, Any]], summary="Model registry: versions, metrics, status")
def list_models(ctx: Ctx, who: Viewer, kind: Annotated[str | None, Query(max_length=100)] = None) -> list[dict]:
    return _registry(ctx).list(kind)


@models_router.get("/models/{version}", response_model=dict[str, Any], summary="One model version's metadata")
def get_model(version: str, ctx: Ctx, who: Viewer) -> dict:
    try:
        return _registry(ctx).show(version)
    except (FileNotFoundError, KeyError, ValueError):
        raise HTTPException(404, f"no model version {version!r}") from None


@models_router.post("/models/{version}/promote", response_model=dict[str, Any],
                    summary="Promote a challenger if it beats the champion (engineer; force overrides, audited)")
def promote(version: str, ctx: Ctx, who: Engineer, plant_wide: PlantWide, force: bool = False) -> dict:
    registry = _registry(ctx)
    try:
        registry.show(version)
    except (FileNotFoundError, KeyError, ValueError):
        raise HTTPException(404, f"no model version {version!r}") from None
    decision = registry.promote(version, force=force)
    with ctx.write() as conn:
        audit.record(conn, who.name, "model.promote", "model", version,
                     {"promoted": decision.promoted, "reason": decision.reason, "force": force})
    if not decision.promoted:
        raise HTTPException(409, decision.reason)
    return {"version": version, "promoted": True, "reason": decision.reason, "previous": decision.previous}
