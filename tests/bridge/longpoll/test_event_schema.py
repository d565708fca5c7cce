"""Migration 0003 creates exactly what the event-channel models declare, on both
engines (the whole-schema comparison lives with the foundation's storage tests)."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection

from bridge.storage.database import Database
from bridge.storage.schema import metadata

OURS = {"event_log", "event_consumer"}


def _diff(conn: Connection) -> list[Any]:
    context = MigrationContext.configure(conn, opts={"compare_type": True})
    return list(compare_metadata(context, metadata()))


def _table(item: Any) -> str | None:
    if isinstance(item, list):  # column modifications come as lists
        return str(item[0][2])
    obj = item[1]
    table = getattr(obj, "table", None)
    name = getattr(table if table is not None else obj, "name", None)
    return str(name) if name else None


async def test_migration_matches_the_models(db: Database) -> None:
    async with db.engine.connect() as conn:
        diff = await conn.run_sync(_diff)
    ours = [d for d in diff if _table(d) in OURS]
    assert ours == []


async def test_the_comparison_sees_a_missing_table(sqlite_db: Database) -> None:
    """Guard: the check above can fail."""
    async with sqlite_db.engine.begin() as conn:
        await conn.exec_driver_sql("DROP TABLE event_consumer")
        diff = await conn.run_sync(_diff)
    assert [_table(d) for d in diff if _table(d) in OURS] == ["event_consumer"]
