"""Connector logging: quiet by default, ``-v`` for LineWatch's own lifecycle messages, ``--debug``
for everything, rate-limited so a busy server cannot flood the disk.

Levels per mode (root handler on stderr):

- ``quiet`` (default): WARNING and above from every logger.
- ``info`` (``-v``): LineWatch loggers at INFO (connect, subscriptions, errors); the protocol
  libraries (asyncua, pymodbus, paho, kafka) stay at WARNING — asyncua logs every
  PublishResult at INFO, which was 7.5 MB in 11 minutes on one line.
- ``debug`` (``--debug``): LineWatch at DEBUG, the libraries at INFO, and a
  :class:`RateLimitFilter` on the handler: at most ``burst`` records per logger and message
  template per ``window_s``; the first record after a quiet window says how many were dropped.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Literal

Verbosity = Literal["quiet", "info", "debug"]
LIBRARIES = ("asyncua", "pymodbus", "paho", "kafka", "aiokafka", "confluent_kafka")
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class RateLimitFilter(logging.Filter):
    """Let through at most ``burst`` records per (logger, message template) per ``window_s`` seconds."""

    def __init__(self, burst: int = 5, window_s: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.burst = burst
        self.window_s = window_s
        self.clock = clock
        self._state: dict[tuple[str, str], list[float]] = {}  # key -> [window start, passed, dropped]

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, str(record.msg))
        now = self.clock()
        state = self._state.get(key)
        if state is None or now - state[0] >= self.window_s:
            dropped = int(state[2]) if state else 0
            if len(self._state) > 10_000:  # bounded: templates are code, but be safe
                self._state.clear()
            self._state[key] = [now, 1, 0]
            if dropped:
                record.msg = f"{record.msg} [{dropped} similar messages suppressed in the last window]"
            return True
        if state[1] < self.burst:
            state[1] += 1
            return True
        state[2] += 1
        return False


def configure(verbosity: Verbosity = "quiet", stream: object | None = None) -> logging.Handler:
    """Set up the root handler and per-logger levels for ``linewatch connect``; returns the handler."""
    handler = logging.StreamHandler(stream)  # type: ignore[arg-type]
    handler.setFormatter(logging.Formatter(FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    own = {"quiet": logging.WARNING, "info": logging.INFO, "debug": logging.DEBUG}[verbosity]
    logging.getLogger("linewatch").setLevel(own)
    for name in LIBRARIES:
        logging.getLogger(name).setLevel(logging.INFO if verbosity == "debug" else logging.WARNING)
    if verbosity == "debug":
        root.setLevel(logging.DEBUG)
        handler.addFilter(RateLimitFilter())
    return handler
