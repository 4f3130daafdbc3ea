"""The console command: help lists the commands; bad input is a message, not a traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest


def linewatch(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run([sys.executable, "-m", "services.cli", *args], capture_output=True, text=True,
                          timeout=120, env={**os.environ, **(env or {})})


def test_help_lists_commands() -> None:
    out = linewatch("--help")
    assert out.returncode == 0
    for name in ("kafka", "demo"):
        assert name in out.stdout


@pytest.mark.parametrize("args", [("kafka", "start", "--port", "abc"), ("no-such-command",),
                                  ("demo", "--samples", "-3"), ("demo", "--maintain", "sometimes"),
                                  ("maintain", "--policy", "whenever")])
def test_bad_input_is_a_clear_error(args: tuple[str, ...]) -> None:
    out = linewatch(*args)
    assert out.returncode == 2
    assert "Traceback" not in out.stderr + out.stdout
    assert "Error" in out.stderr or "error" in out.stderr


def test_bad_settings_are_a_clear_error() -> None:
    out = linewatch("kafka", "topics", env={"LINEWATCH_KAFKA__SECURITY_PROTOCOL": "CARRIER_PIGEON"})
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    assert "security_protocol" in out.stderr
