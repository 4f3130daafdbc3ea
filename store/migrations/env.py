"""Alembic environment: runs on the connection ``store.database.migrate`` passes in."""

from __future__ import annotations

from alembic import context

from store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only via `alembic` CLI, which we do not ship
    raise RuntimeError("run migrations through store.database.migrate()")

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True,
                  compare_type=True)
with context.begin_transaction():
    context.run_migrations()
