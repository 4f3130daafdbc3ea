"""The ``linewatch`` command. Each subcommand group lives in its own module here and only
builds settings and clients before calling a pure core."""

from __future__ import annotations

import importlib
import sys

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape

from contracts.errors import LineWatchError
from contracts.validation import validation_text

app = typer.Typer(name="linewatch", help="LineWatch: predictive maintenance for CNC and robot lines.",
                  no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False)

# (module, name) pairs: every module exposes ``app`` (a typer.Typer) or ``command`` (a function).
SUBCOMMANDS: list[tuple[str, str]] = [
    ("services.cli.kafka", "kafka"),
    ("services.cli.demo", "demo"),
    ("services.cli.serve", "serve"),
    ("services.cli.admin", "admin"),
    ("services.cli.score", "score"),
    ("services.cli.persist", "persist"),
    ("services.cli.maintain", "maintain"),
    ("services.cli.train", None),  # top-level train, evaluate, models, retrain, import-check
    ("services.cli.predict", "predict"),
    ("services.cli.table", "table"),
    ("services.cli.archive", "archive"),
    ("services.cli.simulate", "simulate"),
    ("services.cli.pilot", "pilot"),
    ("services.cli.connect", "connect"),
]

for module_name, name in SUBCOMMANDS:
    module = importlib.import_module(module_name)
    if hasattr(module, "app"):
        app.add_typer(module.app, name=name)
    else:
        app.command(name=name)(module.command)

err = Console(stderr=True)


def run() -> None:
    """Console entry point: bad input ends with a clear message and exit code 2, no traceback."""
    try:
        app()
    except ValidationError as exc:
        err.print(f"[red]error:[/] invalid settings or input: {escape(validation_text(exc))}", soft_wrap=True,
                  highlight=False)
        sys.exit(2)
    except LineWatchError as exc:
        err.print(f"[red]error:[/] {escape(str(exc))}", soft_wrap=True, highlight=False)
        sys.exit(2)
    except (FileNotFoundError, PermissionError, IsADirectoryError) as exc:
        err.print(f"[red]error:[/] {exc.strerror}: {escape(str(exc.filename))}", soft_wrap=True, highlight=False)
        sys.exit(2)
    except KeyboardInterrupt:
        err.print("stopped")
        sys.exit(130)
