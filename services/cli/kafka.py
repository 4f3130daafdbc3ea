"""``linewatch kafka start|stop|status|topics``: the project's own broker."""

from __future__ import annotations

from pathlib import Path

import typer

from runtime import broker
from runtime.settings import LineWatchSettings

app = typer.Typer(help="Run the local single-node Kafka broker (KRaft) from Maven jars.", no_args_is_help=True)


@app.command()
def start(work: Path = typer.Option(broker.DEFAULT_WORK, help="State folder: pid, ports, data, logs."),
          port: int | None = typer.Option(None, min=1024, max=65535, help="Broker port (default: free).")) -> None:
    """Start the broker (idempotent) and print its bootstrap address."""
    info = broker.start(work, broker_port=port)
    typer.echo(f"kafka running: pid={info.pid} bootstrap={info.bootstrap} start={info.started_s}s")


@app.command()
def stop(work: Path = typer.Option(broker.DEFAULT_WORK)) -> None:
    """Stop the broker started from this folder, by its pid."""
    typer.echo("kafka stopped" if broker.stop(work) else "kafka was not running")


@app.command()
def status(work: Path = typer.Option(broker.DEFAULT_WORK)) -> None:
    """Exit 0 if the broker is running."""
    info = broker.status(work)
    if info is None:
        typer.echo("kafka not running")
        raise typer.Exit(3)
    typer.echo(f"kafka running: pid={info.pid} bootstrap={info.bootstrap}")


@app.command()
def topics(partitions: int = typer.Option(6, min=1, max=1000)) -> None:
    """Create LineWatch's topics on the configured broker (LINEWATCH_KAFKA__BOOTSTRAP_SERVERS)."""
    from runtime.admin import ensure_topics

    created = ensure_topics(LineWatchSettings().kafka, partitions=partitions)
    typer.echo(f"created: {', '.join(created) or 'none (all exist)'}")
