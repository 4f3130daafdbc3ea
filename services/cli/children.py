"""Child processes of ``linewatch demo``: each in its own process group, logging to a file,
stopped by its own process-group id (SIGTERM, then SIGKILL after a grace period).

Process groups matter because a child may start its own children (uvicorn workers, a
pool); signalling the group stops the whole tree and nothing else on the machine.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from contracts.errors import LineWatchError


class ChildError(LineWatchError):
    """A child process could not start or exited while it should be running."""


@dataclass
class Child:
    """One running child: its name, command, pid (= process-group id) and log file."""

    name: str
    argv: list[str]
    proc: subprocess.Popen
    log: Path

    def tail(self, lines: int = 25) -> str:
        if not self.log.exists():
            return ""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


@dataclass
class Children:
    """The set of children the demo started; ``stop_all`` ends them in reverse start order."""

    log_dir: Path
    env: dict[str, str]
    running: list[Child] = field(default_factory=list)

    def start(self, name: str, argv: list[str], extra_env: dict[str, str] | None = None) -> Child:
        """Start ``argv`` in a new session (its own process group) with output to ``<log_dir>/<name>.log``."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_dir / f"{name}.log"
        out = open(log, "ab")
        try:
            proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    env={**self.env, **(extra_env or {})}, start_new_session=True)
        except OSError as exc:
            raise ChildError(f"cannot start {name} ({' '.join(argv)}): {exc}") from exc
        finally:
            out.close()
        child = Child(name, argv, proc, log)
        self.running.append(child)
        return child

    def check(self) -> None:
        """Raise ``ChildError`` with the log tail if any child has exited."""
        for child in self.running:
            code = child.proc.poll()
            if code is not None:
                raise ChildError(f"{child.name} exited with code {code}; last lines of {child.log}:\n{child.tail()}")

    def stop_all(self, grace_s: float = 15.0) -> list[str]:
        """Stop every child (newest first); returns the names stopped."""
        stopped = []
        for child in reversed(self.running):
            stop_group(child.proc, grace_s)
            stopped.append(child.name)
        self.running.clear()
        return stopped


def stop_group(proc: subprocess.Popen, grace_s: float) -> None:
    """SIGTERM the child's process group, wait, then SIGKILL it; reaps the child."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)  # pid == pgid: started with start_new_session
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=10)


def linewatch_argv(*args: str) -> list[str]:
    """The ``linewatch`` command of this interpreter (works without the venv on PATH)."""
    return [sys.executable, "-m", "services.cli", *args]


def wait_for(predicate, timeout_s: float, children: Children | None = None, step_s: float = 0.5):
    """Poll ``predicate()`` until it returns a truthy value; checks the children meanwhile."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if children is not None:
            children.check()
        value = predicate()
        if value:
            return value
        time.sleep(step_s)
    return None
