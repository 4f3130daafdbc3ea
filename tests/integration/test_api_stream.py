"""The live stream (SSE) read for real: ``linewatch serve --workers 2`` on SQLite and PostgreSQL,
two API keys scoped to different lines each holding a stream open (on whichever worker the
socket hands them to), scores and alerts of both lines written to the store: each key receives
its own line's events, and none of the other line's."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from contracts import AlertAction, AlertEvent, HealthScore, StoreSettings
from store import Store
from store.credentials import Role
from store.repos.auth import create_key

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
MACHINE = {"line-1": "line-1/cnc-02", "line-2": "line-2/robot-02"}
STREAM_S = 60  # longer than the test: a stream only ends when the server stops


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _until_cut(lines):
    """The stream's lines until the server closes it (it is cut when the server stops)."""
    with contextlib.suppress(httpx.RemoteProtocolError, httpx.ReadError):
        yield from lines


def read_stream(base: str, key: str, out: list[dict], ready: threading.Event, seconds: float) -> None:
    with httpx.Client(base_url=base, timeout=seconds + 30) as client:
        with client.stream("GET", f"/api/v1/stream?max_seconds={seconds}", headers={"X-API-Key": key}) as r:
            assert r.status_code == 200, r.read()
            event = None
            lines = r.iter_lines()
            for line in _until_cut(lines):
                if line.startswith(": connected"):
                    ready.set()
                elif line.startswith("event: "):
                    event = line.removeprefix("event: ")
                elif line.startswith("data: ") and event:
                    out.append({"event": event, "data": json.loads(line.removeprefix("data: "))})


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_stream_sends_each_scoped_key_only_its_lines_events_across_two_workers(
        backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    url = f"sqlite:///{tmp_path}/api.db" if backend == "sqlite" else request.getfixturevalue("postgres_url")
    store = Store.open(StoreSettings(url=url))
    keys = {}
    with store.engine.begin() as conn:
        for line in MACHINE:
            keys[line], _ = create_key(conn, "development", f"stream-{line}", Role.VIEWER, [line], "test", None)
    port = free_port()
    env = {**os.environ, "LINEWATCH_STORE__URL": url, "LINEWATCH_PORT": str(port), "LINEWATCH_CHECK_BROKER": "false",
           "LINEWATCH_BACKGROUND_TASKS": "false", "LINEWATCH_STREAM_POLL_S": "0.2", "LINEWATCH_SHUTDOWN_GRACE_S": "2"}
    proc = subprocess.Popen([sys.executable, "-m", "services.cli", "serve", "--workers", "2", "--no-access-log"],
                            env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, proc.stdout.read().decode()[-3000:]
            time.sleep(0.3)
        received: dict[str, list[dict]] = {line: [] for line in MACHINE}
        readers = []
        for line in MACHINE:
            ready = threading.Event()
            t = threading.Thread(target=read_stream, args=(base, keys[line], received[line], ready, STREAM_S),
                                 daemon=True)
            t.start()
            assert ready.wait(30), f"stream for {line} did not connect"
            readers.append(t)
        now = datetime.now(UTC)
        store.upsert_scores([HealthScore(score_id=f"{m}|s", machine_id=m, ts=now, model_version="m-1", health=77,
                                         horizon_hours=24) for m in MACHINE.values()])
        store.upsert_alert_events([AlertEvent(alert_id=f"{m}|tool_wear|{now.isoformat()}", machine_id=m,
                                              ts=now - timedelta(seconds=1), action=AlertAction.RAISED,
                                              mode="tool_wear", priority="high", probability=0.9, model_version="m-1")
                                   for m in MACHINE.values()])
        wanted = {(line, kind) for line in MACHINE for kind in ("score", "alert")}
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not all(
                any(e["event"] == kind for e in received[line]) for line, kind in wanted):
            time.sleep(0.2)
        for line, events in received.items():
            machines = {e["data"]["machine_id"] for e in events}
            kinds = {e["event"] for e in events}
            assert kinds == {"score", "alert"}, f"{line} key got {events}"
            assert machines == {MACHINE[line]}, f"{line} key got events of {machines}"
        # SIGTERM with both streams still open: the server cuts them after its grace time (2 s) and exits
        assert all(t.is_alive() for t in readers)
        os.killpg(proc.pid, 15)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            pytest.fail(f"serve did not stop within 30 s of SIGTERM with two {STREAM_S}-s streams open")
        for t in readers:
            t.join(10)
        assert not any(t.is_alive() for t in readers)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, 15)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, 9)
        store.close()
