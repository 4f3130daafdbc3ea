"""``linewatch score``: run the streaming scoring worker (consumer group ``linewatch-scoring``)."""

from __future__ import annotations

import logging
import signal

import typer


def command(metrics_port: int | None = typer.Option(None, min=0, max=65535,
                                                     help="Prometheus port (default LINEWATCH_METRICS_PORT or 9400; 0 = off)."),
            verbose: bool = typer.Option(False, "--verbose", "-v", help="Log every assignment and model swap.")) -> None:
    """Score telemetry into health scores and alerts (settings: LINEWATCH_* env, see docs/scoring.md)."""
    import os

    # One OpenMP thread per worker: batches are small and a box runs one worker per core;
    # LightGBM's default (all cores) made predict calls spin against each other.
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from prometheus_client import start_http_server

    from pipelines.scoring.settings import ScoringSettings
    from pipelines.scoring.worker import ScoringWorker

    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = ScoringSettings()
    port = settings.metrics_port if metrics_port is None else metrics_port
    worker = ScoringWorker(settings)
    if port:
        start_http_server(port, registry=worker.metrics.registry)
    signal.signal(signal.SIGTERM, lambda *_: worker.stop())
    typer.echo(f"scoring {settings.kafka.bootstrap_servers} as {settings.scoring.group_id}; metrics on :{port}")
    worker.run()
