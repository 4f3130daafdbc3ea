"""``linewatch maintain``: the pilot's predictive (or preventive) policy acting on the live line."""

from __future__ import annotations

import logging
import signal
from datetime import timedelta
from pathlib import Path

import typer


def command(policy: str = typer.Option("predictive", help="predictive (alerts -> commands through the pilot's "
                                                          "expected-cost rule) or preventive (the pilot's "
                                                          "optimised fixed intervals)."),
            registry: Path | None = typer.Option(None, help="Model registry (default LINEWATCH_REGISTRY_DIR): "
                                                            "champion thresholds; the training basis is cached here."),
            metrics_port: int = typer.Option(9405, min=0, max=65535, envvar="LINEWATCH_METRICS_PORT",
                                             help="Port of /metrics, /healthz, /readyz (0 = off)."),
            verbose: bool = typer.Option(False, "--verbose", "-v", help="Log consumer details too.")) -> None:
    """Consume events and alerts (group linewatch-maintain), publish maintenance commands on
    linewatch.commands.v1, reviewing every pilot decision step of line time (docs/pilot.md)."""
    from contracts.errors import ConfigError
    from services.maintain.worker import MaintainWorker, policy_factory
    from services.pilot.settings import PilotSettings

    if policy not in ("predictive", "preventive"):
        raise ConfigError(f"--policy {policy!r}: choose predictive or preventive")
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not verbose:
        logging.getLogger("kafka").setLevel(logging.WARNING)
    settings = PilotSettings()
    config = settings.pilot
    from contracts.plant import load_plant

    plant = load_plant(settings.plant_file)
    make = policy_factory(policy, plant, config, registry or settings.registry_dir, say=typer.echo)  # type: ignore[arg-type]
    worker = MaintainWorker(settings, make, plant=plant, review_every=timedelta(minutes=config.step_minutes))
    if metrics_port:
        from runtime.probes import HealthServer, loop_checks

        live, ready = loop_checks(lambda: worker.loop)
        HealthServer(metrics_port, worker.registry, live=live, ready=ready).start()
    signal.signal(signal.SIGTERM, lambda *_: worker.stop())
    typer.echo(f"maintaining {plant.id} with the {policy} policy on {settings.kafka.bootstrap_servers} as "
               f"linewatch-maintain, review every {config.step_minutes:g} min of line time; metrics on :{metrics_port}")
    worker.run()
