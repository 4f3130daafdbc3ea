"""``linewatch serve``: run the API (uvicorn) with settings from the environment.

``--workers N`` starts N uvicorn worker processes on one socket. Each builds its own app from
the environment (``services.api.app:app_from_env``). What they share lives in the store:
sessions, API keys, failed-login counts (throttling), alert state; the live stream of every
process reads new rows from the store, so each SSE client sees every event whichever worker it
reached; escalation/webhook ticks are safe to run in every process (conditional updates,
deterministic delivery ids).
"""

from __future__ import annotations

import os

import typer


def command(host: str = typer.Option(None, help="Bind address (default LINEWATCH_HOST or 127.0.0.1)"),
            port: int = typer.Option(None, help="Port (default LINEWATCH_PORT or 8000)"),
            workers: int = typer.Option(1, min=1, max=32, help="Worker processes (each its own app, one socket)"),
            no_background: bool = typer.Option(False, help="Do not run escalation/webhooks in this process"),
            access_log: bool = typer.Option(True, help="Log every request (off for load tests)"),
            ) -> None:
    """Serve the REST API, live stream, /metrics and the operator UI."""
    import uvicorn

    from services.api import ApiSettings

    if no_background:
        os.environ["LINEWATCH_BACKGROUND_TASKS"] = "false"  # the workers read the same environment
    settings = ApiSettings()  # refuses placeholder secrets outside development, before any worker starts
    common = {"host": host or settings.host, "port": port or settings.port, "log_level": "info",
              "proxy_headers": True, "access_log": access_log,
              # an open /stream never finishes by itself: without a limit SIGTERM would wait for it
              "timeout_graceful_shutdown": settings.shutdown_grace_s}
    if workers == 1:
        from services.api import create_app
        from services.api.app import settle_heap

        app = create_app(settings)
        settle_heap()
        uvicorn.run(app, **common)
    else:
        uvicorn.run("services.api.app:app_from_env", factory=True, workers=workers, **common)
