"""Migration 0009 creates exactly the tables the models describe, on both engines."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from bridge.storage.schema import metadata

TABLES = {"tts_phrases", "tts_usage"}


async def test_migrated_schema_matches_the_models(db) -> None:
    def diff(connection):
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        return compare_metadata(context, metadata())

    async with db.engine.connect() as conn:
        changes = await conn.run_sync(diff)
    ours = [c for c in changes if TABLES & set(_tables(c))]
    assert ours == []


def _tables(change) -> list[str]:
    """Table names an Alembic diff mentions: ("add_table", Table) entries, or
    lists of column diffs like ("modify_type", schema, table_name, column, ...)."""
    items = change if isinstance(change, list) else [change]
    names = []
    for item in items:
        for part in item:
            if isinstance(part, str):
                names.append(part)
            elif getattr(part, "name", None):
                names.append(part.name)
            elif getattr(part, "table", None) is not None:
                names.append(part.table.name)
    return names
