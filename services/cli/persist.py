"""``linewatch persist``: write events and per-minute telemetry aggregates into the store."""

from __future__ import annotations

import logging
import signal

import typer


def command(metrics_port: int = typer.Option(9401, min=0, max=65535, envvar="LINEWATCH_METRICS_PORT",
                                             help="Port of /metrics, /healthz, /readyz (0 = off)."),
            verbose: bool = typer.Option(False, "--verbose", "-v")) -> None:
    """Persist stage, consumer group linewatch-persist (settings: LINEWATCH_* env, see docs/scoring.md)."""
    from pipelines.persist.worker import PersistWorker
    from runtime.settings import LineWatchSettings

    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING)
    worker = PersistWorker(LineWatchSettings())
    if metrics_port:
        from runtime.probes import HealthServer, loop_checks

        live, ready = loop_checks(lambda: worker.loop)
        HealthServer(metrics_port, worker.registry, live=live, ready=ready).start()
    signal.signal(signal.SIGTERM, lambda *_: worker.stop())
    worker.run()
