"""Leg times as the journal stores them: integer microseconds on SQLite (both
write paths and SQLAlchemy's own binds alike), native timestamps on PostgreSQL,
the same aware UTC datetimes read back from either."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert, literal, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import StatementError

from bridge.journal import store
from bridge.journal.legs import JournalLeg
from bridge.journal.models import CallLeg
from bridge.storage.base import UtcMicroseconds, from_microseconds, to_microseconds
from bridge.storage.database import Database
from jobs.cdr_loader.mapping import RowMapper
from jobs.cdr_loader.records import SourceRow
from jobs.cdr_loader.sources import csv_master
from jobs.cdr_loader.table_mapping import TableMapper
from tests.jobs.cdr_loader.cdr_data import day, master_csv, transfer_chain

MSK = ZoneInfo("Europe/Moscow")
T0 = datetime(2026, 1, 5, 10, 0)


def test_microseconds_count_from_the_utc_epoch() -> None:
    moment = datetime(2026, 1, 5, 11, 0, 0, 123456, tzinfo=MSK)
    count = to_microseconds(moment)
    assert (
        count == int(datetime(2026, 1, 5, 8, tzinfo=UTC).timestamp()) * 10**6 + 123456
    )
    assert from_microseconds(count) == moment
    assert from_microseconds(count).tzinfo == UTC
    # Exact where a float timestamp is not: the last microsecond of year 9999.
    last = datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
    assert from_microseconds(to_microseconds(last)) == last
    with pytest.raises(ValueError, match="naive"):
        to_microseconds(datetime(2026, 1, 5))


def test_literal_times_render_as_integers_on_sqlite() -> None:
    moment = datetime(2026, 1, 5, 8, 0, 0, 5, tzinfo=UTC)
    stmt = select(literal(moment, UtcMicroseconds()))
    rendered = stmt.compile(
        dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}
    )
    assert str(rendered) == f"SELECT {to_microseconds(moment)} AS anon_1"


def _legs() -> list[JournalLeg]:
    """The same calls through the row rules, under another source name."""
    rows = RowMapper("rows", MSK)
    out = []
    for row in [*transfer_chain(T0), *day(T0, 30)]:
        leg = rows.map(SourceRow(row, row))
        assert isinstance(leg, JournalLeg)
        out.append(leg)
    return out


async def test_sqlite_stores_integers_from_both_write_paths(
    sqlite_db: Database,
) -> None:
    legs = _legs()
    batch = csv_master.parse_batch(
        master_csv([*transfer_chain(T0), *day(T0, 30)]).splitlines(), "cursor"
    )
    assert batch.table is not None
    table, others = TableMapper(RowMapper("csv", MSK)).map(batch.table)
    assert others == []
    async with sqlite_db.engine.begin() as conn:
        await store.insert_legs(conn, legs)
        await store.insert_table(conn, table)
        rows = await conn.exec_driver_sql(
            "SELECT source, leg_key, started_at, answered_at, ended_at,"
            " typeof(started_at), typeof(answered_at), typeof(ended_at) FROM call_legs"
        )
        stored: dict[tuple[str, str], tuple[object, ...]] = {}
        for row in rows:
            source, key, *times = tuple(row)
            stored[source, key] = tuple(times)
    assert len(stored) == 2 * len(legs)
    for leg in legs:
        answered = leg.answered_at
        expected = (
            to_microseconds(leg.started_at),
            None if answered is None else to_microseconds(answered),
            to_microseconds(leg.ended_at),
            "integer", "null" if answered is None else "integer", "integer",
        )  # fmt: skip
        assert stored["rows", leg.leg_key] == expected
        assert stored["csv", leg.leg_key] == expected


async def test_times_round_trip_through_sqlalchemy_binds(db: Database) -> None:
    """Any zone in, UTC out, microseconds kept, on both engines; a naive time is
    refused before it reaches the database."""
    started = datetime(2026, 1, 5, 11, 0, 0, 999999, tzinfo=MSK)
    values = {
        "source": "csv", "leg_key": "k1", "linkedid": "l1", "call_id": "c1",
        "sequence": 1, "started_at": started, "answered_at": None,
        "ended_at": started + timedelta(seconds=30), "src_raw": "101",
        "src_key": "101", "dst_raw": "102", "dst_key": "102", "did": "",
        "direction": "internal", "status": "нет ответа", "answered": False,
        "missed": False, "employee": "101", "talk_seconds": 0, "wait_seconds": 30,
        "duration_seconds": 30, "recording": "", "number_type": "unknown",
        "external_number": "", "raw": "{}",
    }  # fmt: skip
    async with db.engine.begin() as conn:
        await conn.execute(insert(CallLeg).values(values))
        row = (await conn.execute(select(CallLeg))).one()
        assert row.started_at == started
        assert row.started_at.tzinfo == UTC
        assert row.answered_at is None
        # Filters bind through the same type: the bound is in another zone.
        since = datetime(2026, 1, 5, 8, 0, 0, 999999, tzinfo=UTC)
        hits = await conn.scalars(
            select(CallLeg.leg_key).where(CallLeg.started_at >= since)
        )
        assert list(hits) == ["k1"]
        later = since + timedelta(microseconds=1)
        misses = await conn.scalars(
            select(CallLeg.leg_key).where(CallLeg.started_at >= later)
        )
        assert list(misses) == []
        with pytest.raises(StatementError, match="naive"):
            await conn.execute(
                insert(CallLeg).values(
                    {**values, "leg_key": "k2", "started_at": datetime(2026, 1, 5)}
                )
            )
