"""``linewatch persist``: write events and per-minute telemetry aggregates into the store."""

from __future__ import annotations

import logging
import signal

import typer


def command(metrics_port: int = typer.Option(9401, min=0, max=65535, help="Prometheus port (0 = off)."),
            verbose: bool = typer.Option(False, "--verbose", "-v")) -> None:
    """Persist stage, consumer group linewatch-persist (settings: LINEWATCH_* env, see docs/scoring.md)."""
    from prometheus_client import start_http_server

    from pipelines.persist.worker import PersistWorker
    from runtime.settings import LineWatchSettings

    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING)
    worker = PersistWorker(LineWatchSettings())
    if metrics_port:
        start_http_server(metrics_port, registry=worker.registry)
    signal.signal(signal.SIGTERM, lambda *_: worker.stop())
    worker.run()
