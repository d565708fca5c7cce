"""Migration 0007 creates exactly the contact-index tables the models declare."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection

from bridge.onec.models import ContactOwnerRow, ContactPhoneRow
from bridge.storage.schema import metadata

TABLES = {ContactOwnerRow.__tablename__, ContactPhoneRow.__tablename__}


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    diffs = compare_metadata(context, metadata())
    return [d for d in diffs if TABLES & set(map(str, _tables_of(d)))]


def _tables_of(diff: Any) -> list[str]:
    items = diff if isinstance(diff, list) else [diff]
    found = []
    for item in items:
        for part in item:
            name = getattr(part, "name", None) or getattr(
                getattr(part, "table", None), "name", None
            )
            if isinstance(part, str):
                found.append(part)
            elif name:
                found.append(name)
    return found


async def test_migrated_schema_matches_the_models(db):
    async with db.engine.connect() as conn:
        diffs = await conn.run_sync(_differences)
    assert diffs == []
