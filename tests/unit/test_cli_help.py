"""``--help`` of every ``linewatch`` command and subcommand exits 0 and renders (issue 16: a help
text with ``[/path]`` crashed rich's markup parser). The list is walked from the real command
tree, so a command added later is covered without editing this file."""

from __future__ import annotations

import pytest
import typer.main
from typer.testing import CliRunner

from services.cli.main import app


def _paths(cmd: object, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = [path]
    for name, sub in sorted((getattr(cmd, "commands", None) or {}).items()):
        out.extend(_paths(sub, path + (name,)))
    return out


PATHS = _paths(typer.main.get_command(app))


def test_the_walk_finds_the_whole_tree() -> None:
    # a walk that found nothing would make every parametrised case below vacuous
    assert len(PATHS) >= 25
    assert ("connect", "browse") in PATHS and ("models", "promote") in PATHS and ("kafka", "start") in PATHS


@pytest.mark.parametrize("path", PATHS, ids=lambda p: " ".join(p) or "linewatch")
def test_help_exits_zero(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(app, [*path, "--help"], terminal_width=100)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
