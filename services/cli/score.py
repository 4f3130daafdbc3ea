"""``linewatch score``: run the streaming scoring worker (consumer group ``linewatch-scoring``)."""

from __future__ import annotations

import logging
import signal

import typer


def command(metrics_port: int | None = typer.Option(
                None, min=0, max=65535, help="Prometheus port (default LINEWATCH_METRICS_PORT or 9400; 0 = off)."),
            verbose: bool = typer.Option(False, "--verbose", "-v",
                                         help="Log every assignment and model swap.")) -> None:
    """Score telemetry into health scores and alerts (settings: LINEWATCH_* env, see docs/scoring.md)."""
    import os

    # One OpenMP thread per worker: batches are small and a box runs one worker per core;
    # LightGBM's default (all cores) made predict calls spin against each other.
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from pipelines.scoring.settings import ScoringSettings
    from pipelines.scoring.worker import ScoringWorker

    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = ScoringSettings()
    port = settings.metrics_port if metrics_port is None else metrics_port
    worker = ScoringWorker(settings)
    if port:
        from runtime.probes import HealthServer, loop_checks

        live, ready = loop_checks(lambda: worker.loop, progress=worker.progress,
                                  stall_restarts=settings.consume.stall_restarts)
        HealthServer(port, worker.metrics.registry, live=live, ready=ready).start()
    signal.signal(signal.SIGTERM, lambda *_: worker.stop())
    typer.echo(f"scoring {settings.kafka.bootstrap_servers} as {settings.scoring.group_id}; metrics on :{port}")
    worker.run()
