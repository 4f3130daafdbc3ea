"""``linewatch archive``: Kafka telemetry + events -> Parquet history (group ``linewatch-archive``)."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.console import Console

from pipelines.history.archive import compact
from pipelines.history.sink import archive_loop
from runtime.admin import ensure_topics
from runtime.settings import LineWatchSettings

console = Console()


def command(out: Path | None = typer.Option(None, help="Archive root (default <data_dir>/archive)."),
            seconds: float | None = typer.Option(None, help="Stop after this many seconds (default: run)."),
            compact_only: bool = typer.Option(False, "--compact", help="Only de-duplicate the archive files."),
            metrics_port: int = typer.Option(9404, min=0, max=65535, envvar="LINEWATCH_METRICS_PORT",
                                             help="Port of /metrics, /healthz, /readyz (0 = off).")) -> None:
    """Archive telemetry and events from Kafka to Parquet, partitioned by day and machine."""
    settings = LineWatchSettings()
    root = out or settings.data_dir / "archive"
    if compact_only:
        console.print(f"dropped {compact(root)} duplicate rows in {root}")
        return
    ensure_topics(settings.kafka)
    loop, handler = archive_loop(settings.kafka, root, options=settings.consume)
    if metrics_port:
        from runtime.probes import HealthServer, loop_checks

        live, ready = loop_checks(lambda: loop)
        HealthServer(metrics_port, live=live, ready=ready).start()
    deadline = time.monotonic() + seconds if seconds else None
    console.print(f"archiving to {root} (Ctrl-C stops)")
    try:
        loop.run(until=lambda: deadline is not None and time.monotonic() > deadline)
    finally:
        console.print(f"archived {handler.rows['telemetry']} samples and {handler.rows['events']} events")
