"""What every request needs, built once in ``create_app``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from contracts.plant import Plant
from services.api.metrics import ApiMetrics
from services.api.readcache import ReadCache, RecentCallers
from services.api.settings import ApiSettings
from store import Connection, Store


@dataclass
class AppContext:
    """Settings, store, plant and metrics of one running app."""

    settings: ApiSettings
    store: Store
    plant: Plant
    metrics: ApiMetrics
    key_last_used: dict[str, float] = field(default_factory=dict)
    session_last_seen: dict[str, float] = field(default_factory=dict)
    broker_probe: tuple[float, bool, str] | None = None  # (monotonic time, ready, reason) of the last check
    read_cache: ReadCache = field(init=False)
    principals: RecentCallers = field(init=False)

    def __post_init__(self) -> None:
        counter = self.metrics.read_cache
        self.read_cache = ReadCache(self.settings.read_cache_s, on_result=lambda result: counter.labels(result).inc())
        self.principals = RecentCallers(self.settings.auth_cache_s)

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection for reads (no transaction kept open after the block)."""
        with self.store.engine.connect() as conn:
            yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A transaction: committed when the block ends, rolled back on error."""
        try:
            with self.store.engine.begin() as conn:
                yield conn
        finally:
            self.read_cache.invalidate()  # this process's clients see their own writes at once
            self.principals.invalidate()  # and a logout or revocation here applies at once

    @property
    def pepper(self) -> str:
        return self.settings.token_pepper.get_secret_value()
