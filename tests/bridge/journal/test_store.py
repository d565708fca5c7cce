"""Journal storage on both engines: schema = migration, owners, query filters."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, func, select

from bridge.journal import query, store
from bridge.journal.legs import JournalLeg
from bridge.journal.models import CallLeg
from bridge.journal.query import CallFilter
from bridge.phone_numbers import normalize
from bridge.storage.database import Database
from bridge.storage.schema import metadata
from jobs.cdr_loader.mapping import map_row
from jobs.cdr_loader.records import SourceRow
from tests.jobs.cdr_loader.cdr_data import CLIENT, day, transfer_chain

MSK = ZoneInfo("Europe/Moscow")
T0 = datetime(2026, 1, 5, 10, 0)


def legs() -> list[JournalLeg]:
    out = []
    for row in [*transfer_chain(T0), *day(T0, 20)]:
        leg = map_row(SourceRow(row, row), "csv", MSK)
        assert isinstance(leg, JournalLeg)
        out.append(leg)
    return out


async def load(db: Database) -> None:
    async with db.engine.begin() as conn:
        await store.insert_legs(conn, legs())


def _diff(conn: Connection) -> list[object]:
    context = MigrationContext.configure(conn, opts={"compare_type": True})
    return list(compare_metadata(context, metadata()))


async def test_migration_matches_the_models(db: Database) -> None:
    async with db.engine.connect() as conn:
        assert await conn.run_sync(_diff) == []


async def test_insert_is_idempotent(db: Database) -> None:
    await load(db)
    async with db.engine.begin() as conn:
        again = await store.insert_legs(conn, legs())
    assert again == 0


@pytest.mark.parametrize("stored", ["head", "tail"])
async def test_a_batch_partly_stored_adds_only_its_new_legs(
    db: Database, stored: str
) -> None:
    # On PostgreSQL a stored first leg sends the batch the staged way at once; a
    # stored later one makes the straight COPY fail, be undone, and the staged
    # merge write the rest. Either way the stored half is not counted again.
    sample = legs()
    half = len(sample) // 2
    first = sample[:half] if stored == "head" else sample[half:]
    async with db.engine.begin() as conn:
        assert await store.insert_legs(conn, first) == len(first)
        assert await store.insert_legs(conn, sample) == len(sample) - len(first)
        count = await conn.scalar(select(func.count()).select_from(CallLeg))
    assert count == len(sample)


async def test_owners_fill_later(db: Database) -> None:
    await load(db)
    async with db.engine.begin() as conn:
        waiting = await store.numbers_without_owner(conn)
        assert "+" + CLIENT in waiting
        owner = store.Owner("ref-1", "Catalog_Контрагенты", "ООО Ромашка")
        assert await store.set_owner(conn, "+" + CLIENT, owner) == 2
        assert "+" + CLIENT not in await store.numbers_without_owner(conn)
        names = await conn.scalars(
            select(CallLeg.owner_name).where(CallLeg.linkedid == "1700000000.1")
        )
    assert sorted(n or "" for n in names) == ["", "ООО Ромашка", "ООО Ромашка"]


async def test_filters_on_both_engines(db: Database) -> None:
    await load(db)
    day_ = CallFilter(
        since=datetime(2026, 1, 5, tzinfo=UTC), until=datetime(2026, 1, 6, tzinfo=UTC)
    )
    async with db.engine.connect() as conn:
        everything, more = await query.page(conn, day_, limit=100, offset=0)
        assert (len(everything), more) == (23, False)
        between = CallFilter(numbers=(normalize(CLIENT), normalize("202")))
        pair, _ = await query.page(conn, between, limit=100, offset=0)
        assert [x.sequence for x in pair] == [3]
        missed = CallFilter(missed=True)
        assert len((await query.page(conn, missed, limit=100, offset=0))[0]) == 5
        chain = await query.call_legs(conn, "1700000000.1")
        assert [x.sequence for x in chain] == [1, 2, 3]
        first, more = await query.page(conn, day_, limit=10, offset=0)
        assert more
        assert first[0].started_at >= first[-1].started_at


async def test_every_column_reads_back_as_the_leg_had_it(db: Database) -> None:
    # insert_legs lists the values by position; a swapped pair of same-typed
    # columns (src_raw/dst_raw, talk/wait) would only show here.
    owner = store.Owner("ref-9", "Catalog_Контрагенты", "ИП Иванов")
    sample = legs()
    owned = {leg.external_number: owner for leg in sample if leg.external_number}
    async with db.engine.begin() as conn:
        assert await store.insert_legs(conn, sample, owned) == len(sample)
        rows = {r.leg_key: r for r in (await conn.execute(select(CallLeg))).all()}
    for leg in sample:
        row = rows[leg.leg_key]._mapping
        for name in JournalLeg.__dataclass_fields__:
            expected = getattr(leg, name)
            if isinstance(expected, datetime):
                expected = expected.astimezone(UTC)
            elif name == "raw":
                expected = json.dumps(expected, ensure_ascii=False)
            assert row[name] == expected, name
        mine = owner if leg.external_number else None
        assert row["owner_ref"] == (mine.ref if mine else None)
        assert row["owner_entity"] == (mine.entity if mine else None)
        assert row["owner_name"] == (mine.name if mine else None)
