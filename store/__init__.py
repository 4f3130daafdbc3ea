"""The LineWatch store: SQLAlchemy 2 tables, Alembic migrations, idempotent upserts, the alert
life cycle and the repositories the API calls (``store.repos``). The only layer that imports SQLAlchemy.

    store = Store.open(StoreSettings(url="sqlite:///var/linewatch.db"))
    store.upsert_scores([score]); store.upsert_alert_events([alert])
    store.upsert_events([event]); store.upsert_telemetry([sample])
"""

from sqlalchemy import Connection

from store.database import create_store_engine, current_revision, migrate
from store.errors import StoreError
from store.lifecycle import AlertState
from store.store import Store

__all__ = ["AlertState", "Connection", "Store", "StoreError", "create_store_engine", "current_revision", "migrate"]
