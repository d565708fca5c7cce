"""Alembic environment: always given a live connection by `bridge.storage.migrate`."""

from __future__ import annotations

from alembic import context

from bridge.storage.schema import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata(),
    # SQLite can't ALTER most things; batch mode rebuilds the table instead.
    render_as_batch=True,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
