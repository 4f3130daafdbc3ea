"""A per-process micro-cache for the hottest read answers (``GET /plant``, ``GET /alerts``).

Operator screens on every line poll the same two answers; under load most of a request's cost
was building and serialising the same JSON again. ``ReadCache`` keeps the serialised body of an
answer for ``ttl_s`` seconds (``LINEWATCH_READ_CACHE_S``, default 1 s; 0 turns it off), keyed by
route, query and the caller's line scope, so a scoped caller never sees another line's data.

Freshness: a write through the same process (``AppContext.write``: an operator action, a work
order) clears every entry at once, so a client sees its own changes immediately. Rows written by
other processes (the persist worker's new scores and alerts, another ``serve`` worker's
actions) show up within ``ttl_s``. Only one request per key computes an entry: when there is
none yet the others wait for it; when it has just expired they get the expired body until the
new one is ready (no stampede, and no queue behind the rebuild at each expiry).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Any

from pydantic import BaseModel

MAX_ENTRIES = 512


class ReadCache:
    """Serialised answers by key, each valid for ``ttl_s`` and until the next local write."""

    def __init__(self, ttl_s: float, clock: Callable[[], float] = time.monotonic,
                 on_result: Callable[[str], None] | None = None) -> None:
        self.ttl_s = ttl_s
        self.clock = clock
        self.on_result = on_result or (lambda result: None)  # "hit" / "miss", e.g. a Prometheus counter
        self.hits = 0
        self.misses = 0
        self._generation = 0
        self._entries: dict[Hashable, tuple[float, int, bytes]] = {}
        self._key_locks: dict[Hashable, threading.Lock] = {}
        self._lock = threading.Lock()

    def invalidate(self) -> None:
        """Forget every entry (called after each local write)."""
        with self._lock:
            self._generation += 1
            self._entries.clear()

    def _fresh(self, key: Hashable) -> bytes | None:
        entry = self._entries.get(key)
        if entry and entry[0] > self.clock() and entry[1] == self._generation:
            return entry[2]
        return None

    def peek(self, key: Hashable) -> bytes | None:
        """The fresh cached body for ``key`` or None, without waiting (safe on the event loop)."""
        if self.ttl_s <= 0:
            return None
        with self._lock:
            body = self._fresh(key)
        if body is not None:
            self.hits += 1
            self.on_result("hit")
        return body

    def get(self, key: Hashable, compute: Callable[[], bytes]) -> bytes:
        """The cached body for ``key``, or ``compute()``'s (stored unless a write happened meanwhile).

        While one request rebuilds an expired entry, the others get the expired body (at most
        ``ttl_s`` plus one rebuild old) instead of queueing behind the rebuild; entries cleared by
        a local write are never served."""
        if self.ttl_s <= 0:
            self.on_result("off")
            return compute()
        with self._lock:
            if (body := self._fresh(key)) is not None:
                self.hits += 1
                self.on_result("hit")
                return body
            key_lock = self._key_locks.setdefault(key, threading.Lock())
            entry = self._entries.get(key)
            stale = entry[2] if entry and entry[1] == self._generation else None
        if stale is not None and not key_lock.acquire(blocking=False):
            self.on_result("stale")  # another request is rebuilding it
            return stale
        if stale is None:
            key_lock.acquire()  # nothing to serve yet: wait for the one computation
        try:
            with self._lock:
                if (body := self._fresh(key)) is not None:
                    self.hits += 1
                    self.on_result("hit")
                    return body
                generation, expires = self._generation, self.clock() + self.ttl_s
            body = compute()
            with self._lock:
                self.misses += 1
                self.on_result("miss")
                if generation == self._generation:  # no local write while computing: safe to keep
                    if len(self._entries) >= MAX_ENTRIES:
                        self._entries.clear()
                        self._key_locks = {key: key_lock}
                    self._entries[key] = (expires, generation, body)
            return body
        finally:
            key_lock.release()


class RecentCallers:
    """Valid callers (secret -> principal) seen in the last ``ttl_s``, until the next local write.

    When an entry expires, one request re-checks the store (``claim``) while the others keep
    using the expired entry, so many requests with one token never all hit the store at once."""

    def __init__(self, ttl_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self.clock = clock
        self.generation = 0
        self._entries: dict[str, tuple[float, object]] = {}
        self._refreshing: set[str] = set()
        self._lock = threading.Lock()

    def invalidate(self) -> None:
        with self._lock:
            self.generation += 1
            self._entries.clear()

    def peek(self, secret: str) -> Any:
        """The principal if remembered and fresh, else None."""
        found, fresh = self.lookup(secret)
        return found if fresh else None

    def lookup(self, secret: str) -> tuple[Any, bool]:
        """(principal or None, fresh): an expired entry comes back with ``fresh`` False."""
        if self.ttl_s <= 0:
            return None, False
        entry = self._entries.get(secret)
        if entry is None:
            return None, False
        return entry[1], entry[0] > self.clock()

    def claim(self, secret: str) -> bool:
        """True for the one caller that should re-check an expired ``secret`` (``release`` after)."""
        with self._lock:
            if secret in self._refreshing:
                return False
            self._refreshing.add(secret)
            return True

    def release(self, secret: str) -> None:
        with self._lock:
            self._refreshing.discard(secret)

    def forget(self, secret: str) -> None:
        with self._lock:
            self._entries.pop(secret, None)

    def put(self, secret: str, principal: object, generation: int) -> None:
        """Remember ``principal`` unless a local write happened since ``generation`` was read."""
        if self.ttl_s <= 0:
            return
        with self._lock:
            if generation != self.generation:
                return
            if len(self._entries) >= 10_000:
                self._entries.clear()
            self._entries[secret] = (self.clock() + self.ttl_s, principal)


def json_body(model: type[BaseModel], data: object) -> bytes:
    """``data`` validated against the route's response model and serialised as FastAPI would."""
    return model.model_validate(data).model_dump_json(by_alias=True).encode()
