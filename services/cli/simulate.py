"""``linewatch simulate``: run the simulated line live to Kafka, or write history to Parquet.

    linewatch simulate --plant simulators/plants/demo.yaml --speed 3600 --seed 7 [--duration-hours 24]
    linewatch simulate history --days 60 --out var/history [--seed 7]
"""

from __future__ import annotations

import logging
import signal
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import typer
from kafka.errors import KafkaError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from contracts.errors import BrokerError, ConfigError
from contracts.plant import Plant, load_plant
from runtime.admin import ensure_topics
from runtime.probes import HealthServer
from runtime.settings import LineWatchSettings
from simulators import publisher
from simulators.history import expected_samples, write_history
from simulators.physics.line import DEFAULT_START, Line
from simulators.physics.sensors import FaultRates

app = typer.Typer(help="Simulated CNC and robot lines: live to Kafka, or history to Parquet.",
                  invoke_without_command=True, no_args_is_help=False)
console = Console()

PLANT_HELP = "Plant YAML file (default: LINEWATCH_PLANT_FILE or simulators/plants/demo.yaml)."


def _plant(path: Path | None, settings: LineWatchSettings) -> Plant:
    return load_plant(path or settings.plant_file)


def _start(text: str | None) -> datetime:
    if text is None:
        return DEFAULT_START
    if text == "now":  # simulated time starts at the current wall-clock minute
        return datetime.now(UTC).replace(second=0, microsecond=0)
    try:
        t = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ConfigError(f"--start: not an ISO 8601 time: {text!r}") from exc
    return (t if t.tzinfo else t.replace(tzinfo=UTC)).astimezone(UTC)


@app.callback()
def live(ctx: typer.Context,
         plant: Path = typer.Option(None, "--plant", help=PLANT_HELP),
         speed: float = typer.Option(3600.0, min=0, help="Simulated seconds per wall second; 0 = as fast as possible."),
         seed: int = typer.Option(7, help="Random seed: same seed and plant, same stream."),
         duration_hours: float = typer.Option(None, "--duration-hours", min=0,
                                              help="Stop after this much simulated time."),
         start: str = typer.Option(None, help="Simulated start: ISO 8601 or 'now' (default 2026-01-05T00:00Z)."),
         metrics_port: int = typer.Option(9402, help="Prometheus metrics port; 0 = off."),
         faults: bool = typer.Option(True, help="Sensor faults (dropouts, stuck values, spikes)."),
         ) -> None:
    """Stream telemetry and events to Kafka and obey maintenance commands."""
    if ctx.invoked_subcommand is not None:
        return
    settings = LineWatchSettings()
    line = Line(_plant(plant, settings), seed=seed, start=_start(start),
                faults=None if faults else FaultRates.off())
    until = line.now + timedelta(hours=duration_hours) if duration_hours is not None else None
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if metrics_port:
        try:
            HealthServer(metrics_port).start()  # /metrics, /healthz, /readyz
        except OSError as exc:
            raise ConfigError(f"--metrics-port {metrics_port}: cannot listen ({exc.strerror}); "
                              "pass another port or 0 to turn metrics off") from exc
    try:
        ensure_topics(settings.kafka)
    except KafkaError as exc:  # unreachable broker: a clear message and exit 2, not a traceback
        raise BrokerError(f"cannot reach Kafka at {settings.kafka.bootstrap_servers}: {exc} "
                          "(start one with `linewatch kafka start`, or set LINEWATCH_KAFKA__BOOTSTRAP_SERVERS)"
                          ) from exc
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    console.print(f"simulating [bold]{len(line.machines)}[/] machines of plant {line.plant.id!r} at "
                  f"{speed:g}x to {settings.kafka.bootstrap_servers} (seed {seed}); Ctrl-C stops")
    metrics = publisher.SimMetrics.create()
    pub = publisher.run(line, settings.kafka, speed, until, stop, metrics)
    console.print(f"stopped at simulated {line.now.isoformat()}; {len(pub.applied)} command(s) applied")


@app.command()
def history(days: float = typer.Option(60.0, min=0.01, help="Simulated days to write."),
            out: Path = typer.Option(Path("var/history"), help="Output folder (telemetry.parquet, events.parquet)."),
            plant: Path = typer.Option(None, "--plant", help=PLANT_HELP),
            seed: int = typer.Option(7, help="Random seed."),
            start: str = typer.Option(None, help="Simulated start time, ISO 8601 (default: DAYS before the "
                                                 "live default start, so history ends where a live run begins)."),
            faults: bool = typer.Option(True, help="Sensor faults (dropouts, stuck values, spikes)."),
            ) -> None:
    """Write N simulated days of every machine as Parquet tables (docs/data-format.md)."""
    p = _plant(plant, LineWatchSettings())
    begin = _start(start) if start is not None else DEFAULT_START - timedelta(days=days)
    line = Line(p, seed=seed, start=begin, faults=None if faults else FaultRates.off())
    total = expected_samples(p, days)
    with Progress(TextColumn("[bold]history"), BarColumn(), MofNCompleteColumn(), TextColumn("samples"),
                  TimeRemainingColumn(), console=console) as bar:
        task = bar.add_task("samples", total=total)
        summary = write_history(p, out, days, seed, line=line, progress=lambda n: bar.advance(task, n))
    console.print(f"wrote {summary.samples:,} samples and {summary.events:,} events in {summary.seconds:.1f}s "
                  f"({summary.samples_per_s:,.0f} samples/s) to {out}/")
