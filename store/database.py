"""Open the store: an engine from ``StoreSettings`` with migrations applied.

SQLite (default, ``sqlite:///var/linewatch.db``) runs in WAL mode so the API reads while a
pipeline writes; PostgreSQL (``postgresql+psycopg://user@host/db``) is for production.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from contracts.errors import ConfigError
from contracts.settings import StoreSettings
from store.errors import StoreError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer
    cursor.execute("PRAGMA synchronous=NORMAL")  # durable enough with WAL, much faster
    cursor.execute("PRAGMA busy_timeout=10000")  # wait for another writer instead of failing
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def create_store_engine(settings: StoreSettings) -> Engine:
    """Build the SQLAlchemy engine (no migrations). Bad URLs raise ``ConfigError``."""
    try:
        url = make_url(settings.url)
    except ArgumentError as exc:
        raise ConfigError(f"store.url is not a valid SQLAlchemy URL: {settings.url!r}") from exc
    if settings.password is not None:
        url = url.set(password=settings.password.get_secret_value())
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if url.get_backend_name() != "postgresql":
        raise ConfigError(f"store.url must be sqlite or postgresql, got {url.get_backend_name()!r}")
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


def _alembic_config(connection: Any) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


MIGRATION_LOCK_ID = 0x4C57_0001  # PostgreSQL advisory lock: one migrator at a time


def migrate(engine: Engine, revision: str = "head", attempts: int = 6) -> None:
    """Upgrade the schema to ``revision`` (idempotent; safe to call on every start).

    Workers start together (compose, Helm), so several processes may migrate the same
    database at once: PostgreSQL serialises them with an advisory lock; on SQLite the
    loser of the race retries and finds the schema already at ``revision``.
    """
    last: SQLAlchemyError | None = None
    for attempt in range(attempts):
        try:
            with engine.begin() as connection:
                if connection.dialect.name == "postgresql":
                    connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_ID})")
                command.upgrade(_alembic_config(connection), revision)
            return
        except SQLAlchemyError as exc:
            last = exc
            time.sleep(0.2 * (attempt + 1))
    raise StoreError(f"store migration failed: {last.__class__.__name__}: {last}") from last


def current_revision(engine: Engine) -> str | None:
    """The schema revision the database is at (``None`` before the first migration)."""
    if "alembic_version" not in inspect(engine).get_table_names():
        return None
    with engine.connect() as connection:
        return connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
