"""Alembic environment: runs on the connection ``pipelines.store.engine.migrate`` passes in."""

from __future__ import annotations

from alembic import context

from pipelines.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only via `alembic` CLI, which we do not ship
    raise RuntimeError("run migrations through pipelines.store.engine.migrate()")

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True,
                  compare_type=True)
with context.begin_transaction():
    context.run_migrations()
