"""Work orders, training labels and webhook subscriptions."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Response
from fastapi.responses import PlainTextResponse

from contracts.plant import MODE_ACTION
from services.api.deps import Admin, Ctx, Operator, PlantWide, Scope, Viewer
from services.api.schemas.work import (
    LabelPublic,
    WebhookCreate,
    WebhookCreated,
    WebhookPublic,
    WorkOrderClose,
    WorkOrderCreate,
    WorkOrderPublic,
)
from store.repos import alerts as alerts_repo
from store.repos import audit
from store.repos import webhooks as hooks
from store.repos import work_orders as repo

router = APIRouter(tags=["work orders"])
hooks_router = APIRouter(tags=["webhooks"])


@router.get("/work-orders", response_model=list[WorkOrderPublic], summary="List work orders (newest first)")
def list_work_orders(ctx: Ctx, who: Viewer, scope: Scope, status: Literal["open", "closed"] | None = None,
                     machine: Annotated[str | None, Query(max_length=200)] = None,
                     alert_id: Annotated[str | None, Query(max_length=400)] = None,
                     limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                     offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> list[dict]:
    with ctx.read() as conn:
        return repo.search(conn, status, machine, alert_id, limit, offset, scope.lines)


@router.post("/work-orders", response_model=WorkOrderPublic, status_code=201,
             summary="Open a work order, from an alert or by hand (operator)")
def create_work_order(body: WorkOrderCreate, ctx: Ctx, who: Operator, scope: Scope) -> dict:
    data = body.model_dump()
    with ctx.write() as conn:
        if body.alert_id:
            alert = alerts_repo.get(conn, body.alert_id, scope.lines)
            if body.machine_id and body.machine_id != alert["machine_id"]:
                raise HTTPException(422, f"alert {body.alert_id} is on {alert['machine_id']}, not {body.machine_id}")
            data["machine_id"] = alert["machine_id"]
            data["action"] = data["action"] or alert["recommended_action"] or MODE_ACTION.get(alert["mode"])
        elif not body.machine_id:
            raise HTTPException(422, "give machine_id or alert_id")
        try:
            ctx.plant.machine(data["machine_id"])
        except KeyError:
            raise HTTPException(422, f"no machine {data['machine_id']!r} in the plant") from None
        if not scope.sees_machine(data["machine_id"]):  # same answer as a machine that does not exist
            raise HTTPException(422, f"no machine {data['machine_id']!r} in the plant")
        return repo.create(conn, data, who.name)


@router.get("/work-orders/{work_order_id}", response_model=WorkOrderPublic, summary="One work order")
def get_work_order(work_order_id: str, ctx: Ctx, who: Viewer, scope: Scope) -> dict:
    with ctx.read() as conn:
        return scope.require_row(repo.get(conn, work_order_id), "work order", work_order_id)


@router.post("/work-orders/{work_order_id}/close", response_model=WorkOrderPublic,
             summary="Close with outcome, failure mode, cause, action, cost (operator); becomes a label")
def close_work_order(work_order_id: str, body: WorkOrderClose, ctx: Ctx, who: Operator, scope: Scope) -> dict:
    with ctx.write() as conn:
        scope.require_row(repo.get(conn, work_order_id), "work order", work_order_id)
        return repo.close(conn, work_order_id, body.model_dump(), who.name)


@router.get("/labels", response_model=list[LabelPublic], summary="Training labels (add format=csv for the export)",
            responses={200: {"content": {"text/csv": {"example": "machine_id,ts,mode,outcome\n"
                                                                 "line-1/cnc-01,2026-01-05T08:00:00+00:00,tool_wear,"
                                                                 "confirmed_fault\n"}}}})
def labels(ctx: Ctx, who: Viewer, scope: Scope, start: Annotated[datetime | None, Query(alias="from")] = None,
           end: Annotated[datetime | None, Query(alias="to")] = None,
           format: Literal["json", "csv"] = "json") -> Response | list[dict]:
    if any(v is not None and v.tzinfo is None for v in (start, end)):
        raise HTTPException(422, "times need a UTC offset")
    with ctx.read() as conn:
        rows = scope.rows(repo.labels(conn, start, end))
    if format == "json":
        return rows
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["machine_id", "ts", "mode", "outcome", "source", "source_id"])
    for r in rows:
        writer.writerow([r["machine_id"], r["ts"].isoformat(), r["mode"] or "", r["outcome"] or "", r["source"],
                         r["source_id"]])
    return PlainTextResponse(buf.getvalue(), media_type="text/csv")


@hooks_router.get("/webhooks", response_model=list[WebhookPublic], summary="List webhook subscriptions (admin)")
def list_webhooks(ctx: Ctx, who: Admin, plant_wide: PlantWide) -> list[dict]:
    with ctx.read() as conn:
        return hooks.list_all(conn)


@hooks_router.post("/webhooks", response_model=WebhookCreated, status_code=201,
                   summary="Subscribe a URL to alert.raised / alert.escalated / alert.resolved (admin)")
def create_webhook(body: WebhookCreate, ctx: Ctx, who: Admin, plant_wide: PlantWide) -> dict:
    with ctx.write() as conn:
        row = hooks.create(conn, str(body.url), list(body.events), who.name)
        audit.record(conn, who.name, "webhook.create", "webhook", row["webhook_id"],
                     {"url": row["url"], "events": row["events"]})
    return row


@hooks_router.delete("/webhooks/{webhook_id}", response_model=WebhookPublic, summary="Delete a subscription (admin)")
def delete_webhook(webhook_id: str, ctx: Ctx, who: Admin, plant_wide: PlantWide) -> dict:
    with ctx.write() as conn:
        row = hooks.delete(conn, webhook_id)
        audit.record(conn, who.name, "webhook.delete", "webhook", webhook_id)
    return row
