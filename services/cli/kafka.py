"""``linewatch kafka start|stop|status|topics``: the project's own broker."""

from __future__ import annotations

from datetime import UTC
from pathlib import Path

import typer

from runtime import broker
from runtime.settings import LineWatchSettings

app = typer.Typer(help="Run the local single-node Kafka broker (KRaft) from Maven jars.", no_args_is_help=True)


@app.command()
def start(work: Path = typer.Option(broker.DEFAULT_WORK, help="State folder: pid, ports, data, logs."),
          port: int | None = typer.Option(None, min=1024, max=65535, help="Broker port (default: free)."),
          secure: bool = typer.Option(False, help="SASL_SSL listener (SCRAM-SHA-512 over TLS), CA made by openssl."),
          user: str = typer.Option(broker.DEFAULT_CLIENT_USER, help="With --secure: the SCRAM user for clients; "
                                   "password from LINEWATCH_KAFKA__SASL_PASSWORD, else random."),
          plaintext_port: int | None = typer.Option(None, min=0, max=65535,
                                                    help="With --secure: also a PLAINTEXT listener (0: free port)."),
          mtls: bool = typer.Option(False, help="With --secure: require client certificates too.")) -> None:
    """Start the broker (idempotent) and print its bootstrap address (and, if secure, its client.env)."""
    import os
    import secrets

    from contracts.errors import ConfigError

    users = None
    if secure:
        users = {user: os.environ.get("LINEWATCH_KAFKA__SASL_PASSWORD") or secrets.token_urlsafe(24)}
    elif plaintext_port is not None or mtls:
        raise ConfigError("--plaintext-port and --mtls need --secure")
    info = broker.start(work, broker_port=port, secure=secure, users=users, plaintext_port=plaintext_port,
                        mtls=mtls)
    typer.echo(f"kafka running: pid={info.pid} bootstrap={info.bootstrap} protocol={info.security_protocol} "
               f"start={info.started_s}s")
    if info.plaintext_bootstrap:
        typer.echo(f"plaintext listener: {info.plaintext_bootstrap}")
    if info.security_protocol != "PLAINTEXT":
        typer.echo(f"client settings: {info.client_env_file} (load: set -a; . {info.client_env_file}; set +a)")


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


def describe_security(kafka) -> str:
    """How a client connects, for error messages (never the password)."""
    text = kafka.security_protocol
    if kafka.sasl_mechanism:
        text += f", {kafka.sasl_mechanism} as {kafka.sasl_username!r}"
    return text


@app.command()
def topics(partitions: int = typer.Option(6, min=1, max=1000)) -> None:
    """Create LineWatch's topics on the configured broker (LINEWATCH_KAFKA__* settings, TLS/SASL included)."""
    from kafka.errors import KafkaError

    from contracts.errors import BrokerError
    from runtime.admin import ensure_topics

    kafka = LineWatchSettings().kafka
    try:
        created = ensure_topics(kafka, partitions=partitions)
    except KafkaError as exc:  # unreachable, TLS refused or wrong credentials: one line, exit 2
        raise BrokerError(f"cannot use Kafka at {kafka.bootstrap_servers} ({describe_security(kafka)}): {exc}; "
                          "check LINEWATCH_KAFKA__* (docs/kafka.md)") from exc
    typer.echo(f"created: {', '.join(created) or 'none (all exist)'}")


@app.command("replay-deadletters")
def replay_deadletters(
        stage: str = typer.Option(None, help="Only dead letters of this stage (scoring, persist, archive…)."),
        error_type: str = typer.Option(None, "--error-type", help="Only this error type (ContractError, "
                                                                  "UnknownMachine, ProcessingFailed…)."),
        reason: str = typer.Option(None, help="Only dead letters whose reason contains this text."),
        source_topic: str = typer.Option(None, "--source-topic", help="Only records that came from this topic."),
        since: str = typer.Option(None, help="Only dead letters written at or after this ISO 8601 time."),
        to: str = typer.Option(None, help="Send to this topic instead of each record's source topic."),
        limit: int = typer.Option(None, min=1, help="Stop after this many matching dead letters."),
        dry_run: bool = typer.Option(False, "--dry-run", help="Count and list, send nothing.")) -> None:
    """Send the original bytes of matching dead letters back to their topic (docs/kafka.md)."""
    from datetime import datetime

    from contracts.errors import ConfigError
    from runtime.replay import matcher, replay

    when = None
    if since is not None:
        try:
            when = datetime.fromisoformat(since)
        except ValueError as exc:
            raise ConfigError(f"--since: not an ISO 8601 time: {since!r} (e.g. 2026-12-01T08:00Z)") from exc
        when = when if when.tzinfo else when.replace(tzinfo=UTC)
    report = replay(LineWatchSettings().kafka, keep=matcher(stage, error_type, reason, source_topic, when),
                    to_topic=to, dry_run=dry_run, limit=limit)
    verb = "would replay" if dry_run else "replayed"
    typer.echo(f"{report.matched} matching dead letters: {verb} {report.replayed}; "
               f"{len(report.summaries)} summaries of oversized records not replayable"
               + (f" ({', '.join(report.summaries[:10])}{' …' if len(report.summaries) > 10 else ''})"
                  if report.summaries else "")
               + (f"; {report.unreadable} unreadable" if report.unreadable else ""))
