"""The database handle: SQLite set up for a concurrent server, UTC times on both."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, insert, select, text

from bridge.storage.base import UtcDateTime
from bridge.storage.database import SQLITE_CACHE_KIB, Database


async def test_given_sqlite_then_wal_busy_timeout_and_foreign_keys_are_on(
    tmp_path: Path,
) -> None:
    db = Database(
        f"sqlite+aiosqlite:///{tmp_path / 'x' / 'a.db'}", busy_timeout_ms=1234
    )
    try:
        async with db.engine.connect() as conn:
            mode = (await conn.execute(text("PRAGMA journal_mode"))).scalar()
            timeout = (await conn.execute(text("PRAGMA busy_timeout"))).scalar()
            fks = (await conn.execute(text("PRAGMA foreign_keys"))).scalar()
            cache = (await conn.execute(text("PRAGMA cache_size"))).scalar()
    finally:
        await db.dispose()
    assert (mode, timeout, fks) == ("wal", 1234, 1)
    assert cache == -SQLITE_CACHE_KIB
    assert (tmp_path / "x" / "a.db").exists()


async def test_given_aware_time_when_stored_then_read_back_as_same_utc_instant(
    db: Database,
) -> None:
    table = Table(
        "t_times",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("at", UtcDateTime()),
    )
    moscow = timezone(timedelta(hours=3))
    stored = datetime(2026, 3, 29, 2, 30, 15, 123456, tzinfo=moscow)
    async with db.engine.begin() as conn:
        await conn.run_sync(table.metadata.create_all)
        await conn.execute(insert(table).values(id=1, at=stored))
        got = (await conn.execute(select(table.c.at))).scalar_one()
        await conn.run_sync(table.metadata.drop_all)
    assert got == stored
    assert got.tzinfo is UTC


async def test_given_naive_time_when_stored_then_refused(sqlite_db: Database) -> None:
    table = Table(
        "t_naive",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("at", UtcDateTime()),
    )
    async with sqlite_db.engine.begin() as conn:
        await conn.run_sync(table.metadata.create_all)
        with pytest.raises(Exception, match="naive datetime"):
            await conn.execute(insert(table).values(id=1, at=datetime(2026, 1, 1)))


def test_given_password_in_url_then_safe_url_hides_it() -> None:
    db = Database("postgresql+psycopg://bridge:hunter22@db.local/telebridge")
    assert "hunter22" not in db.safe_url()
