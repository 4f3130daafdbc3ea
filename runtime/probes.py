"""A worker's HTTP face: ``/metrics`` for Prometheus, ``/healthz`` (liveness) and
``/readyz`` (readiness) that answer from real checks, not just "the process is up".

Workers pass callables: liveness is usually "the consume loop polled recently"
(``ConsumeLoop.seconds_since_poll``); readiness adds "partitions are assigned".
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Protocol

from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

Check = Callable[[], "tuple[bool, str]"]


def _always_ok() -> tuple[bool, str]:
    return True, "ok"


class HealthServer:
    """Serve /metrics, /healthz and /readyz on ``addr:port`` in a daemon thread."""

    def __init__(self, port: int, registry: CollectorRegistry = REGISTRY, live: Check = _always_ok,
                 ready: Check | None = None, addr: str = "0.0.0.0") -> None:
        checks = {"/healthz": live, "/readyz": ready or live}

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # http.server's naming
                path = self.path.split("?", 1)[0]
                if path == "/metrics":
                    self._send(200, generate_latest(registry), CONTENT_TYPE_LATEST)
                elif path in checks:
                    ok, detail = checks[path]()
                    self._send(200 if ok else 503, (detail + "\n").encode(), "text/plain; charset=utf-8")
                else:
                    self._send(404, b"not found: try /metrics, /healthz, /readyz\n", "text/plain")

            def _send(self, code: int, body: bytes, ctype: str) -> None:
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:  # keep worker logs clean
                return

        self._server = ThreadingHTTPServer((addr, port), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="health-http", daemon=True)

    def start(self) -> HealthServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def loop_liveness(seconds_since_poll: Callable[[], float], max_silence_s: float = 60.0) -> Check:
    """Liveness from a consume loop: alive while it polled within ``max_silence_s``."""

    def check() -> tuple[bool, str]:
        silence = seconds_since_poll()
        if silence > max_silence_s:
            return False, f"consume loop silent for {silence:.0f}s (limit {max_silence_s:.0f}s)"
        return True, f"ok: last poll {silence:.1f}s ago"

    return check


class PolledLoop(Protocol):
    """What the probes read from a consume loop."""

    def seconds_since_poll(self) -> float: ...


class Progress(Protocol):
    """What the probes read from a worker's ``LoopProgress``."""

    def check(self, stall_restarts: int) -> tuple[bool, str]: ...


def loop_checks(get_loop: Callable[[], PolledLoop | None], max_silence_s: float = 60.0,
                startup_grace_s: float = 180.0, progress: Progress | None = None,
                stall_restarts: int = 3) -> tuple[Check, Check]:
    """Liveness and readiness for a worker whose ``ConsumeLoop`` may not exist yet.

    Live: the loop polled within ``max_silence_s`` (before the loop exists, alive during a
    start-up grace period) and, given the worker's ``LoopProgress``, the worker is not
    restarting over and over without committing (``stall_restarts``). Ready: the loop
    exists and is live.
    """
    import time

    born = time.monotonic()

    def live() -> tuple[bool, str]:
        if progress is not None:
            ok, detail = progress.check(stall_restarts)
            if not ok:
                return ok, detail
        loop = get_loop()
        if loop is None:
            waited = time.monotonic() - born
            return waited < startup_grace_s, f"starting ({waited:.0f}s, grace {startup_grace_s:.0f}s)"
        return loop_liveness(loop.seconds_since_poll, max_silence_s)()

    def ready() -> tuple[bool, str]:
        if get_loop() is None:
            return False, "consume loop not started"
        return live()

    return live, ready
