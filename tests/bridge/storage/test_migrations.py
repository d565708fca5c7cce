"""Migrations build the schema the models describe, identically on both engines."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect

from bridge.storage import migrate
from bridge.storage.database import Database
from bridge.storage.schema import metadata
from tests.conftest import open_database


def schema_diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "render_as_batch": True}
    )
    return list(compare_metadata(context, metadata()))


async def test_given_migrated_database_then_it_matches_the_models(db: Database) -> None:
    async with db.engine.connect() as conn:
        diff = await conn.run_sync(schema_diff)
    assert diff == []


async def test_given_migrated_database_then_revision_is_head(db: Database) -> None:
    assert await migrate.current_revision(db) == migrate.head_revision()


async def test_given_migrated_database_when_upgrading_again_then_nothing_changes(
    db: Database,
) -> None:
    await migrate.upgrade(db)
    assert await migrate.current_revision(db) == migrate.head_revision()


def describe(connection: Connection) -> dict[str, Any]:
    """The schema as comparable facts, with engine-specific spellings folded."""
    inspector = inspect(connection)
    tables: dict[str, Any] = {}
    for table in sorted(inspector.get_table_names()):
        if table == "alembic_version":
            continue
        tables[table] = {
            "columns": {
                c["name"]: (_type_family(c["type"]), c["nullable"])
                for c in inspector.get_columns(table)
            },
            "pk": sorted(inspector.get_pk_constraint(table)["constrained_columns"]),
            "unique": sorted(
                tuple(u["column_names"])
                for u in inspector.get_unique_constraints(table)
            ),
            "indexes": sorted(
                (tuple(i["column_names"]), bool(i["unique"]))
                for i in inspector.get_indexes(table)
                # PostgreSQL lists the index behind a unique constraint; SQLite not.
                if not i.get("duplicates_constraint")
            ),
            "fks": sorted(
                (tuple(f["constrained_columns"]), f["referred_table"])
                for f in inspector.get_foreign_keys(table)
            ),
        }
    return tables


def _type_family(sql_type: Any) -> str:
    name = type(sql_type).__name__.upper()
    for family in (
        "INT",
        "CHAR",
        "TEXT",
        "TIME",
        "DATE",
        "BOOL",
        "FLOAT",
        "REAL",
        "NUMERIC",
        "DOUBLE",
        "BLOB",
        "BYTEA",
        "BINARY",
        "JSON",
        "UUID",
    ):
        if family in name:
            return {
                "REAL": "FLOAT",
                "DOUBLE": "FLOAT",
                "BYTEA": "BLOB",
                "BINARY": "BLOB",
                "TEXT": "CHAR",
                "DATE": "TIME",
            }.get(family, family)
    return name


async def test_sqlite_and_postgresql_get_the_same_schema(tmp_path: Path) -> None:
    schemas = []
    for kind in ("sqlite", "postgresql"):
        database, pg_schema = await open_database(kind, tmp_path)
        try:
            await migrate.upgrade(database)
            async with database.engine.connect() as conn:
                schemas.append(await conn.run_sync(describe))
        finally:
            await database.dispose()
            if pg_schema is not None:
                await pg_schema.drop()
    sqlite_schema, pg_schema_facts = schemas
    assert sqlite_schema.keys() == pg_schema_facts.keys()
    for table in sqlite_schema:
        assert sqlite_schema[table] == pg_schema_facts[table], table
    assert "instance_meta" in sqlite_schema


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
async def db_at_0010(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[Database]:
    """A database as the release before the read-time routing table left it."""
    database, schema = await open_database(request.param, tmp_path)
    try:
        await migrate.upgrade(database, "0010")
        yield database
    finally:
        await database.dispose()
        if schema is not None:
            await schema.drop()


async def test_routing_upgrade_clears_checkpoints_so_the_next_run_rebuilds(
    db_at_0010: Database,
) -> None:
    """0011 re-keys the routing contributions without converting them: the source
    checkpoints go too, so the next routing_table run reads every source again."""
    async with db_at_0010.engine.begin() as conn:
        await conn.exec_driver_sql(
            "INSERT INTO routing_contribution VALUES"
            " ('c1', 'anna', 'calls', '2026-11-20', 3, '2026-11-20 10:00:00.000000')"
        )
        await conn.exec_driver_sql(
            "INSERT INTO routing_checkpoint VALUES"
            " ('calls', '4242', '2026-11-20 10:00:00.000000')"
        )
    await migrate.upgrade(db_at_0010)
    async with db_at_0010.engine.connect() as conn:
        for table in ("routing_contribution", "routing_checkpoint", "routing_employee"):
            count = await conn.exec_driver_sql(f"SELECT COUNT(*) FROM {table}")  # noqa: S608
            assert count.scalar_one() == 0, table
        tables = await conn.run_sync(lambda c: inspect(c).get_table_names())
    assert "routing_entry" not in tables
    assert "routing_stage" not in tables
