"""``linewatch serve``: run the API (uvicorn) with settings from the environment."""

from __future__ import annotations

import typer


def command(host: str = typer.Option(None, help="Bind address (default LINEWATCH_HOST or 127.0.0.1)"),
            port: int = typer.Option(None, help="Port (default LINEWATCH_PORT or 8000)"),
            workers: int = typer.Option(1, min=1, max=32, help="Worker processes"),
            no_background: bool = typer.Option(False, help="Do not run escalation/webhooks in this process"),
            ) -> None:
    """Serve the REST API, live stream, /metrics and the operator UI."""
    import uvicorn

    from services.api import ApiSettings, create_app

    overrides = {"background_tasks": False} if no_background else {}
    settings = ApiSettings(**overrides)  # refuses placeholder secrets outside development
    app = create_app(settings)
    uvicorn.run(app, host=host or settings.host, port=port or settings.port, workers=1 if workers == 1 else None,
                log_level="info", proxy_headers=True)
