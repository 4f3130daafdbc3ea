"""Operations: liveness, readiness (store + broker), Prometheus metrics, the live stream."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from services.api.context import AppContext
from services.api.deps import Ctx, Scope, Viewer
from store.repos import alerts as alerts_repo
from store.repos import scores as scores_repo

router = APIRouter(tags=["operations"])
stream_router = APIRouter(tags=["stream"])


@router.get("/healthz", summary="Liveness: the process answers", responses={200: {"content": {"application/json": {
    "example": {"status": "ok"}}}}})
def healthz() -> dict[str, str]:
    return {"status": "ok"}


def _broker_ok(ctx: AppContext) -> tuple[bool, str]:
    cached = ctx.broker_probe
    if cached and time.monotonic() - cached[0] < 10:
        return cached[1], cached[2]
    try:
        from kafka import KafkaAdminClient

        kw = ctx.settings.kafka.client_kwargs() | {"request_timeout_ms": 3000}
        admin = KafkaAdminClient(**kw)
        try:
            admin.list_topics()
        finally:
            admin.close()
        result = (True, "ok")
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready", with the reason
        result = (False, f"{type(exc).__name__}: {exc}"[:300])
    ctx.broker_probe = (time.monotonic(), *result)
    return result


@router.get("/readyz", summary="Readiness: store answers (and Kafka broker, unless check_broker is off)",
            responses={200: {"content": {"application/json": {"example": {"status": "ready", "checks": {
                "store": "ok", "broker": "ok"}}}}}, 503: {"description": "not ready, with the failing check"}})
def readyz(ctx: Ctx) -> JSONResponse:
    checks: dict[str, str] = {}
    try:
        ctx.store.ping()
        checks["store"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any store failure means "not ready", with the reason
        checks["store"] = str(exc)[:300]
    if ctx.settings.check_broker:
        checks["broker"] = _broker_ok(ctx)[1]
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse({"status": "ready" if ready else "not ready", "checks": checks},
                        status_code=200 if ready else 503)


@router.get("/metrics", summary="Prometheus metrics", response_class=Response,
            responses={200: {"content": {"text/plain": {
                "example": "linewatch_api_request_duration_seconds_bucket{…} 3"}}}})
def metrics(ctx: Ctx) -> Response:
    try:
        with ctx.read() as conn:
            rows = alerts_repo.counts_by_state_priority(conn)
        ctx.metrics.alerts_open.clear()
        for state, priority, n in rows:
            ctx.metrics.alerts_open.labels(state, priority).set(n)
    except Exception:  # noqa: BLE001 - metrics must still answer when the store is down
        ctx.metrics.store_errors.inc()
    return Response(generate_latest(ctx.metrics.registry), media_type=CONTENT_TYPE_LATEST)


def _sse(event: str, data: Any, ident: str | None = None) -> str:
    text = json.dumps(data, default=str, ensure_ascii=False)
    return (f"id: {ident}\n" if ident else "") + f"event: {event}\ndata: {text}\n\n"


def _poll(ctx: AppContext, since: datetime, lines: frozenset[str]) -> tuple[list[dict], list[dict], datetime]:
    with ctx.read() as conn:
        scores = scores_repo.ingested_since(conn, since)
        alerts = alerts_repo.changed_since(conn, since)
    newest = max([since] + [r["ingested_at"] for r in scores] + [r["changed_at"] for r in alerts])
    if lines:
        scores = [r for r in scores if r["line_id"] in lines]
        alerts = [r for r in alerts if r["line_id"] in lines]
    return scores, alerts, newest


@stream_router.get("/stream", summary="Server-Sent Events: `score` and `alert` events as they reach the store",
                   response_class=StreamingResponse,
                   responses={200: {"content": {"text/event-stream": {
                       "example": 'event: alert\ndata: {"alert_id": "…"}\n\n'}}}})
async def stream(request: Request, ctx: Ctx, who: Viewer, scope: Scope,
                 since_s: Annotated[float, Query(ge=0, le=86400, description="Also replay changes this old")] = 0,
                 max_events: Annotated[int | None, Query(ge=1, le=100000,
                                                         description="Close after this many events (scripts)")] = None,
                 max_seconds: Annotated[float | None, Query(gt=0, le=86400,
                                                            description="Close after this long (scripts)")] = None,
                 ) -> StreamingResponse:
    async def events() -> AsyncIterator[str]:
        since = datetime.now(UTC) - timedelta(seconds=since_s)
        sent, idle = 0, 0.0
        deadline = time.monotonic() + max_seconds if max_seconds else None
        yield ": connected\n\n"
        while not await request.is_disconnected() and (deadline is None or time.monotonic() < deadline):
            scores, alerts, since = await asyncio.to_thread(_poll, ctx, since, scope.lines)
            for kind, rows in (("score", [r["payload"] for r in scores]), ("alert", alerts)):
                for row in rows:
                    yield _sse(kind, row)
                    sent += 1
                    if max_events and sent >= max_events:
                        return
            idle = 0.0 if scores or alerts else idle + ctx.settings.stream_poll_s
            if idle >= 15:
                idle = 0.0
                yield ": keep-alive\n\n"
            await asyncio.sleep(ctx.settings.stream_poll_s)

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
