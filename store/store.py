"""``Store``: the one object pipelines and the API hold to reach the database."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError

from contracts.messages import AlertEvent, HealthScore, TelemetrySample
from contracts.settings import StoreSettings
from store import writes
from store.database import create_store_engine, migrate
from store.errors import StoreError

Item = TypeVar("Item")
Result = TypeVar("Result")


class Store:
    """An engine with the schema migrated, plus the pipelines' idempotent writes.

    Each write runs in its own transaction and raises ``StoreError`` on failure, so a
    consume loop can let the batch be redelivered (offsets are committed after the handler).
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, settings: StoreSettings, *, upgrade: bool = True) -> Store:
        """Build the engine and (by default) upgrade the schema to the newest revision."""
        engine = create_store_engine(settings)
        if upgrade:
            migrate(engine)
        return cls(engine)

    def _write(self, fn: Callable[[Connection, Iterable[Item]], Result], items: Iterable[Item]) -> Result:
        try:
            with self.engine.begin() as conn:
                return fn(conn, items)
        except SQLAlchemyError as exc:
            raise StoreError(f"{fn.__name__} failed: {exc.__class__.__name__}: {exc}") from exc

    def upsert_scores(self, scores: Iterable[HealthScore]) -> int:
        """Scores keyed by machine + window end + model version; returns rows written."""
        return self._write(writes.upsert_scores, scores)

    def upsert_alert_events(self, events: Iterable[AlertEvent]) -> dict[str, int]:
        """Scorer alert events keyed by ``alert_id``; operator-side state is preserved."""
        return self._write(writes.upsert_alert_events, events)

    def upsert_events(self, events: Iterable[Any]) -> int:
        """Machine events (``contracts.MachineEvent``) keyed by ``event_id``."""
        return self._write(writes.upsert_events, events)

    def upsert_telemetry(self, samples: Iterable[TelemetrySample]) -> int:
        """Samples merged into per-minute aggregates; returns samples merged (replays: 0)."""
        return self._write(writes.upsert_telemetry, samples)

    def ping(self) -> None:
        """Raise ``StoreError`` unless the database answers."""
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except SQLAlchemyError as exc:
            raise StoreError(f"store unreachable: {exc.__class__.__name__}") from exc

    def close(self) -> None:
        self.engine.dispose()
