"""Migrations build the schema the models describe, identically on both engines."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect, select, text

from bridge.journal import query
from bridge.journal.models import CallLeg
from bridge.journal.query import CallFilter
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
async def old_db(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[Database]:
    """A database left at the revision the test's `revision` mark names, as the
    release before that migration left it."""
    marker = request.node.get_closest_marker("revision")
    assert marker is not None, "old_db needs @pytest.mark.revision(...)"
    database, schema = await open_database(request.param, tmp_path)
    try:
        await migrate.upgrade(database, marker.args[0])
        yield database
    finally:
        await database.dispose()
        if schema is not None:
            await schema.drop()


@pytest.mark.revision("0010")
async def test_routing_upgrade_clears_checkpoints_so_the_next_run_rebuilds(
    old_db: Database,
) -> None:
    """0011 re-keys the routing contributions without converting them: the source
    checkpoints go too, so the next routing_table run reads every source again."""
    async with old_db.engine.begin() as conn:
        await conn.exec_driver_sql(
            "INSERT INTO routing_contribution VALUES"
            " ('c1', 'anna', 'calls', '2026-11-20', 3, '2026-11-20 10:00:00.000000')"
        )
        await conn.exec_driver_sql(
            "INSERT INTO routing_checkpoint VALUES"
            " ('calls', '4242', '2026-11-20 10:00:00.000000')"
        )
    await migrate.upgrade(old_db)
    async with old_db.engine.connect() as conn:
        for table in ("routing_contribution", "routing_checkpoint", "routing_employee"):
            count = await conn.exec_driver_sql(f"SELECT COUNT(*) FROM {table}")  # noqa: S608
            assert count.scalar_one() == 0, table
        tables = await conn.run_sync(lambda c: inspect(c).get_table_names())
    assert "routing_entry" not in tables
    assert "routing_stage" not in tables


# Leg times as the release before 0013 wrote them on SQLite (SQLAlchemy's text,
# always six fraction digits) and as an older writer may have left them (none).
OLD_TIMES = [
    ("2026-01-05 08:00:00.000000", "2026-01-05 08:00:07.250000",
     "2026-01-05 08:03:00.000000"),
    ("2026-01-05 23:59:59.999999", None, "2026-01-06 00:00:30.000001"),
    ("2026-01-06 09:15:00", "2026-01-06 09:15:05", "2026-01-06 09:20:00"),
]  # fmt: skip


async def _insert_old_legs(db: Database) -> None:
    async with db.engine.begin() as conn:
        for index, (started, answered, ended) in enumerate(OLD_TIMES):
            await conn.execute(
                text(
                    "INSERT INTO call_legs (source, leg_key, linkedid, call_id,"
                    " sequence, started_at, answered_at, ended_at, src_raw, src_key,"
                    " dst_raw, dst_key, did, direction, status, answered, missed,"
                    " employee, talk_seconds, wait_seconds, duration_seconds,"
                    " recording, number_type, external_number, raw) VALUES"
                    " ('csv', :key, :key, :key, 1, :started, :answered, :ended,"
                    " '101', '101', '102', '102', '', 'internal', 'принят', true,"
                    " false, '101', 0, 0, 0, '', 'unknown', '', '{}')"
                ),
                {"key": f"leg-{index}", "started": started,
                 "answered": answered, "ended": ended},
            )  # fmt: skip


def _as_utc(value: str | None) -> datetime | None:
    if value is None:
        return None
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


@pytest.mark.revision("0012")
async def test_journal_times_upgrade_to_integers_and_back(old_db: Database) -> None:
    """0013 turns SQLite's text leg times into integer microseconds that read,
    filter and sort as before, and its downgrade restores the text; PostgreSQL's
    timestamps pass through untouched."""
    await _insert_old_legs(old_db)
    await migrate.upgrade(old_db)
    sqlite = old_db.is_sqlite
    async with old_db.engine.connect() as conn:
        legs = (await conn.execute(select(CallLeg).order_by(CallLeg.leg_key))).all()
        assert [(leg.started_at, leg.answered_at, leg.ended_at) for leg in legs] == [
            tuple(_as_utc(value) for value in times) for times in OLD_TIMES
        ]
        if sqlite:
            kinds = await conn.exec_driver_sql(
                "SELECT DISTINCT typeof(started_at), typeof(ended_at) FROM call_legs"
            )
            assert [tuple(kind) for kind in kinds] == [("integer", "integer")]
        # The last microsecond of the 5th falls inside the day and out of the next.
        fifth = CallFilter(
            since=datetime(2026, 1, 5, 3, tzinfo=ZoneInfo("Europe/Moscow")),
            until=datetime(2026, 1, 6, tzinfo=UTC),
        )
        found, _ = await query.page(conn, fifth, limit=10, offset=0)
        assert [leg.leg_key for leg in found] == ["leg-1", "leg-0"]
    async with old_db.engine.begin() as conn:
        await conn.run_sync(
            lambda c: command.downgrade(migrate.alembic_config(c), "0012")
        )
    async with old_db.engine.connect() as conn:
        rows = await conn.exec_driver_sql(
            "SELECT started_at, answered_at, ended_at FROM call_legs ORDER BY leg_key"
        )
        restored = rows.all()
    if sqlite:
        # Back in SQLAlchemy's form: the fraction is always written out.
        assert restored == [
            tuple(None if v is None else _as_text(v) for v in times)
            for times in OLD_TIMES
        ]
    else:
        assert restored == [
            tuple(None if v is None else datetime.fromisoformat(v) for v in times)
            for times in OLD_TIMES
        ]


def _as_text(value: str) -> str:
    return datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M:%S.%f")
