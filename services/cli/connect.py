"""``linewatch connect``: run PLC/SCADA connectors from a mapping file, check one, browse OPC UA.

    linewatch connect --mapping examples/mappings/line1-opcua.yaml
    linewatch connect check --mapping my-line.yaml
    linewatch connect browse opc.tcp://10.0.0.5:4840 [--skeleton]
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from contracts.errors import ConfigError
from contracts.plant import load_plant
from services.connectors.core.mapping import Mapping, OpcUaSource, Security, check_against_plant, load_mapping

app = typer.Typer(help="Connect PLCs/SCADA (OPC UA, Sparkplug B, Modbus TCP) to LineWatch via a mapping file.",
                  invoke_without_command=True, no_args_is_help=False)
out = Console()


def _checked(mapping_file: Path, plant: Path | None) -> Mapping:
    from services.connectors.app import ConnectorSettings

    mapping = load_mapping(mapping_file)
    plant_file = plant or mapping.plant or ConnectorSettings().plant_file
    if plant_file is not None and Path(plant_file).exists():
        check_against_plant(mapping, load_plant(plant_file), mapping_file.name)
    return mapping


@app.callback()
def run(ctx: typer.Context,
        mapping: Path | None = typer.Option(None, "--mapping", "-m", help="Mapping file (YAML)."),
        plant: Path | None = typer.Option(None, help="Plant file to check machine ids against."),
        verbose: bool = typer.Option(False, "--verbose", "-v",
                                     help="Log connects, subscriptions and errors (protocol libraries stay quiet)."),
        debug: bool = typer.Option(False, "--debug",
                                   help="Log everything, rate-limited to 5 messages per kind per minute.")) -> None:
    """Run the connectors of a mapping file until Ctrl-C (settings: LINEWATCH_KAFKA__*, LINEWATCH_CONNECTOR__*)."""
    if ctx.invoked_subcommand is not None:
        return
    if mapping is None:
        out.print(ctx.get_help())
        raise typer.Exit(2)
    from services.connectors import logs
    from services.connectors.app import Connector, ConnectorSettings

    logs.configure("debug" if debug else "info" if verbose else "quiet")
    checked = _checked(mapping, plant)
    settings = ConnectorSettings()
    out.print(f"connecting {len(checked.sources)} source(s), {sum(len(s.tags) for s in checked.sources)} tags -> "
              f"{settings.kafka.bootstrap_servers}; " + (
                  f"metrics on {settings.connector.metrics_host}:{settings.connector.metrics_port}"
                  if settings.connector.metrics_port else "metrics off"))
    Connector(checked, settings).run()


@app.command()
def check(mapping: Path = typer.Option(..., "--mapping", "-m"), plant: Path | None = typer.Option(None)) -> None:
    """Validate a mapping file (and its machine ids against the plant) without connecting."""
    checked = _checked(mapping, plant)
    table = Table("source", "protocol", "tags", "machines")
    for src in checked.sources:
        table.add_row(src.name, src.protocol, str(len(src.tags)), str(len({t.machine for t in src.tags})))
    out.print(table)
    out.print(f"[green]ok[/]: {mapping}")


@app.command("browse")
def browse_cmd(endpoint: str = typer.Argument(...,
                                              help="Server endpoint: opc.tcp://host:port, optionally with a path."),
               start: str | None = typer.Option(None, help="Node id to start from (default: Objects)."),
               depth: int = typer.Option(6, min=0, max=20), limit: int = typer.Option(2000, min=1),
               skeleton: bool = typer.Option(False, help="Print a mapping file to edit instead of a table."),
               as_json: bool = typer.Option(False, "--json", help="Print the variables as a JSON list."),
               username: str | None = typer.Option(None), password_env: str | None = typer.Option(None)) -> None:
    """List an OPC UA server's variables (node id, type, value, path) to help write a mapping."""
    from services.connectors.browse import as_json as to_json
    from services.connectors.browse import browse, mapping_skeleton

    if skeleton and as_json:
        raise typer.BadParameter("choose one of --skeleton and --json")
    source = OpcUaSource(name="browse", protocol="opcua", endpoint=endpoint,
                         security=Security(username=username, password_env=password_env),
                         tags=[{"node": "ns=0;i=2253", "machine": "x/x", "signal": "x_c"}])
    try:
        found = asyncio.run(browse(source, start, depth, limit))
    except (OSError, TimeoutError) as exc:
        reason = (exc.strerror if isinstance(exc, OSError) else None) or str(exc) or type(exc).__name__
        raise ConfigError(f"{endpoint}: cannot browse: {reason} (is the server running and the port open?)") from exc
    if skeleton:
        typer.echo(mapping_skeleton("my-opcua", endpoint, found), nl=False)
        return
    if as_json:
        typer.echo(to_json(found))
        return
    # Plain aligned columns, never cut: node ids are what the integrator copies into the mapping.
    rows = [("node id", "type", "value", "path")] + [
        (v.node_id, v.data_type, _short(v.value), v.path) for v in found]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for r in rows:
        typer.echo("  ".join(r[i].ljust(widths[i]) for i in range(3)) + "  " + r[3])
    typer.echo(f"{len(found)} variables")


def _short(value: object) -> str:
    text = " ".join(repr(value).split())
    return text if len(text) <= 40 else text[:39] + "…"
