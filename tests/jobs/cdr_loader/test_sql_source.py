"""The SQL source over real tables: Asterisk's `cdr` (cdr_pgsql/cdr_adaptive_odbc
layout, on SQLite and PostgreSQL) and MikoPBX's `cdr_general` (its SQLite cdr.db,
columns from CallDetailRecordsBase)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import create_async_engine

from bridge.clock import FakeClock
from bridge.journal.models import CallLeg
from bridge.storage.database import Database
from jobs.base import JobContext, JobOutcome
from jobs.cdr_loader.loader import CdrLoader, GapCheck
from jobs.cdr_loader.sources.sql_table import SqlTableSource
from tests.conftest import PG_URL, PgSchema
from tests.jobs.cdr_loader.cdr_data import day, transfer_chain

MSK = ZoneInfo("Europe/Moscow")
T0 = datetime(2026, 1, 5, 9, 0)
NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
CTX = JobContext("cdr_loader", NOW)
ASTERISK_CDR = """CREATE TABLE cdr (
    calldate TIMESTAMP NOT NULL, clid VARCHAR(80), src VARCHAR(80), dst VARCHAR(80),
    dcontext VARCHAR(80), channel VARCHAR(80), dstchannel VARCHAR(80),
    lastapp VARCHAR(80), lastdata VARCHAR(80), duration INTEGER, billsec INTEGER,
    disposition VARCHAR(45), amaflags INTEGER, accountcode VARCHAR(20),
    uniqueid VARCHAR(150), userfield VARCHAR(255), peeraccount VARCHAR(80),
    linkedid VARCHAR(150), sequence INTEGER)"""
COLS = ("calldate", "clid", "src", "dst", "dcontext", "channel", "dstchannel",
        "lastapp", "lastdata", "duration", "billsec", "disposition", "amaflags",
        "accountcode", "uniqueid", "userfield", "peeraccount", "linkedid",
        "sequence")  # fmt: skip


def asterisk_rows(rows: list[dict[str, str]]) -> list[dict[str, object]]:
    out = []
    for r in rows:
        row: dict[str, object] = {c: r.get(c, "") for c in COLS}
        row["calldate"] = datetime.fromisoformat(r["start"])
        row["amaflags"] = 3
        for name in ("duration", "billsec", "sequence"):
            row[name] = int(r[name])
        out.append(row)
    return out


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
async def pbx_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """The PBX's own database (not ours): a file, or a PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'asterisk.db'}"
        return
    schema = PgSchema()
    await schema.create()
    try:
        yield f"{PG_URL}?options={quote(f'-csearch_path={schema.name}')}"
    finally:
        await schema.drop()


async def fill(url: str, ddl: str, table: str, rows: list[dict[str, object]]) -> None:
    engine = create_async_engine(url.replace("sqlite://", "sqlite+aiosqlite://", 1))
    try:
        async with engine.begin() as conn:
            await conn.execute(text(ddl))
            names = list(rows[0])
            stmt = text(
                f"INSERT INTO {table} ({', '.join(names)}) "  # noqa: S608 - test DDL
                f"VALUES ({', '.join(':' + n for n in names)})"
            )
            await conn.execute(stmt, rows)
    finally:
        await engine.dispose()


async def count(db: Database) -> int:
    async with db.session() as s:
        return len((await s.scalars(select(CallLeg.id))).all())


async def test_asterisk_cdr_table(db: Database, pbx_url: str) -> None:
    rows = asterisk_rows([*transfer_chain(T0), *day(T0, 30)])
    await fill(pbx_url, ASTERISK_CDR, "cdr", rows)
    source = SqlTableSource(pbx_url, "cdr", batch_size=7, zone=MSK)
    loader = CdrLoader(db, source, zone=MSK, clock=FakeClock(NOW))
    report = await loader(CTX)
    assert report.outcome is JobOutcome.OK
    assert report.counters["inserted"] == 33
    assert (await loader(CTX)).counters.get("inserted", 0) == 0
    assert await count(db) == 33


async def test_same_start_rows_beyond_a_batch_are_not_skipped(
    sqlite_db: Database, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'asterisk.db'}"
    rows = asterisk_rows(list(day(T0, 12)))
    for row in rows:
        row["calldate"] = datetime(2026, 1, 5, 9, 0)  # twelve legs in one second
    await fill(url, ASTERISK_CDR, "cdr", rows)
    source = SqlTableSource(url, "cdr", batch_size=5, zone=MSK)
    report = await CdrLoader(sqlite_db, source, zone=MSK, clock=FakeClock(NOW))(CTX)
    assert report.counters["inserted"] == 12


async def test_late_written_long_call_is_backfilled_by_the_gap_check(
    sqlite_db: Database, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'asterisk.db'}"
    await fill(url, ASTERISK_CDR, "cdr", asterisk_rows(list(day(T0, 10))))
    source = SqlTableSource(url, "cdr", overlap=timedelta(0), zone=MSK)
    clock = FakeClock(NOW)
    gaps = GapCheck(hours=12, every=timedelta(hours=1))
    loader = CdrLoader(sqlite_db, source, zone=MSK, clock=clock, gap_check=gaps)
    await loader(CTX)
    # A two-hour call that started before the checkpoint is written at its end.
    late = asterisk_rows(list(day(T0 - timedelta(hours=2), 1, seed_base=9)))
    await fill(url, "SELECT 1", "cdr", late)
    clock.advance(3600)
    report = await loader(JobContext("cdr_loader", clock.now()))
    assert report.counters.get("inserted", 0) == 0
    assert report.counters["backfilled"] == 1
    assert await count(sqlite_db) == 11


MIKOPBX_CDR = """CREATE TABLE cdr_general (
    id INTEGER PRIMARY KEY AUTOINCREMENT, start TEXT, endtime TEXT, answer TEXT,
    src_chan TEXT, src_num TEXT, dst_chan TEXT, dst_num TEXT, UNIQUEID TEXT,
    linkedid TEXT, did TEXT, disposition TEXT, recordingfile TEXT,
    from_account TEXT, to_account TEXT, dialstatus TEXT, appname TEXT,
    transfer INTEGER, is_app INTEGER, duration INTEGER, billsec INTEGER,
    work_completed INTEGER, src_call_id TEXT, dst_call_id TEXT,
    verbose_call_id TEXT, a_transfer INTEGER)"""


def mikopbx_rows() -> list[dict[str, object]]:
    """Seed 004's chain as MikoPBX logs it: the same UNIQUEID on two legs."""

    def leg(start: str, src: str, dst: str, sc: str, dc: str, billsec: int,
            uid: str, transfer: int, rec: str) -> dict[str, object]:  # fmt: skip
        return {
            "start": f"2026-01-05 {start}.000", "endtime": "", "answer": "",
            "src_chan": sc, "src_num": src, "dst_chan": dc, "dst_num": dst,
            "UNIQUEID": uid, "linkedid": "mikopbx-1736060400.10", "did": "74952293042",
            "disposition": "ANSWERED", "recordingfile": rec, "from_account": "",
            "to_account": "", "dialstatus": "ANSWER", "appname": "Dial",
            "transfer": transfer, "is_app": 0, "duration": billsec + 5,
            "billsec": billsec, "work_completed": 1, "src_call_id": "",
            "dst_call_id": "", "verbose_call_id": "", "a_transfer": 0,
        }  # fmt: skip

    rec = "/storage/usbdisk1/mikopbx/astspool/monitor/2026/01/05/10/a.mp3"
    return [
        leg("10:00:00", "79255283744", "201", "PJSIP/SIP-TRUNK-1-01", "PJSIP/201-02",
            40, "mikopbx-1736060400.10", 0, rec),
        leg("10:00:45", "201", "202", "PJSIP/201-03", "PJSIP/202-04", 10,
            "mikopbx-1736060445.12", 0, ""),
        leg("10:01:00", "79255283744", "202", "PJSIP/SIP-TRUNK-1-01", "PJSIP/202-04",
            120, "mikopbx-1736060400.10", 1, ""),
    ]  # fmt: skip


async def test_mikopbx_cdr_general(db: Database, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cdr.db'}"
    await fill(url, MIKOPBX_CDR, "cdr_general", mikopbx_rows())
    source = SqlTableSource(url, "cdr_general", zone=MSK)
    report = await CdrLoader(db, source, zone=MSK, clock=FakeClock(NOW))(CTX)
    assert report.counters["inserted"] == 3
    async with db.session() as s:
        legs = (await s.scalars(select(CallLeg).order_by(CallLeg.started_at))).all()
    assert [leg.leg_key for leg in legs] == ["id:1", "id:2", "id:3"]
    assert [leg.employee for leg in legs] == ["201", "201", "202"]
    assert legs[0].recording.endswith("/a.mp3")


async def test_missing_table_is_unavailable(
    sqlite_db: Database, tmp_path: Path
) -> None:
    source = SqlTableSource(f"sqlite:///{tmp_path / 'none.db'}", "cdr", zone=MSK)
    report = await CdrLoader(sqlite_db, source, zone=MSK, clock=FakeClock(NOW))(CTX)
    assert report.outcome is JobOutcome.FAILED
    assert "table cdr" in report.message
