"""``create_app(settings)``: the FastAPI application (REST under /api/v1, UI at /)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from contracts.plant import load_plant
from services.api import errors, headers
from services.api.context import AppContext
from services.api.metrics import ApiMetrics
from services.api.notify import Notifier
from services.api.routes import alerts, auth, kpis, ops, plant, work
from services.api.settings import ApiSettings
from store import Store

PREFIX = "/api/v1"
DESCRIPTION = """LineWatch REST API: plant health, ISA-18.2 alert workflow, work orders, KPIs with baselines,
models, live stream. Authenticate with `Authorization: Bearer <token>` (from `POST /api/v1/auth/login`)
or an API key (`Authorization: Bearer lwk_…` or `X-API-Key`). Roles: viewer < operator < engineer < admin.
Errors are JSON `{"detail": "<message>"}`. Guide: docs/api.md."""


class RequestTiming:
    """Pure ASGI middleware: request latency per method, route template and status.

    Templates, never raw paths, keep the label set bounded. Pure ASGI (no per-request task or
    body streams, unlike ``@app.middleware("http")``): it costs a clock read and a histogram
    observation per request."""

    def __init__(self, app, metrics: ApiMetrics) -> None:  # type: ignore[no-untyped-def]
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        status = [500]

        async def send_status(message) -> None:  # type: ignore[no-untyped-def]
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", "unmatched")
            self.metrics.request_seconds.labels(scope["method"], template, str(status[0])) \
                .observe(time.perf_counter() - began)


def create_app(settings: ApiSettings | None = None, store: Store | None = None) -> FastAPI:
    """Build the app: open (and migrate) the store, load the plant file, wire routes."""
    settings = settings or ApiSettings()
    store = store or Store.open(settings.store)
    ctx = AppContext(settings=settings, store=store, plant=load_plant(settings.plant_file), metrics=ApiMetrics.create())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        notifier = Notifier(ctx)
        app.state.notifier = notifier
        task = asyncio.create_task(notifier.run()) if settings.background_tasks else None
        yield
        if task:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        notifier.close()

    app = FastAPI(title="LineWatch API", version="1.0.0", description=DESCRIPTION, lifespan=lifespan,
                  openapi_url=f"{PREFIX}/openapi.json", docs_url=None, redoc_url=None)
    app.state.ctx = ctx
    errors.install(app)
    app.add_middleware(RequestTiming, metrics=ctx.metrics)
    headers.install(app, f"{PREFIX}/docs", f"{PREFIX}/openapi.json", settings.cors_origins)
    for router in (auth.router, plant.router, alerts.kpi_router, alerts.router, work.router, work.hooks_router,
                   kpis.router, kpis.models_router, ops.stream_router):
        app.include_router(router, prefix=PREFIX)
    app.include_router(ops.router)
    if settings.ui_dir.is_dir() and (settings.ui_dir / "index.html").exists():
        app.mount("/", StaticFiles(directory=settings.ui_dir, html=True), name="ui")
    return app


def settle_heap() -> None:
    """Move everything built at start-up (modules, the app, the plant) out of the garbage
    collector's view (``gc.freeze``): a full collection then scans only what requests created,
    which cut the API's rare long pauses. Called once per ``serve`` process, never in tests
    that build many apps."""
    gc.collect()
    gc.freeze()


def app_from_env() -> FastAPI:
    """The app with settings from the environment: the factory each ``serve --workers N`` process calls."""
    app = create_app(ApiSettings())
    settle_heap()
    return app
