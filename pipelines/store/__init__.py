"""The LineWatch store: SQLAlchemy 2 tables, Alembic migrations and idempotent upserts.

    store = Store.open(StoreSettings(url="sqlite:///var/linewatch.db"))
    store.upsert_scores([score]); store.upsert_alert_events([alert])
    store.upsert_events([event]); store.upsert_telemetry([sample])
"""

from pipelines.store.engine import StoreError, create_store_engine, current_revision, migrate
from pipelines.store.lifecycle import AlertState
from pipelines.store.store import Store

__all__ = ["AlertState", "Store", "StoreError", "create_store_engine", "current_revision", "migrate"]
