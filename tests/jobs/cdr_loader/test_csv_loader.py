"""The loader over a real Master.csv on both engines: idempotence, crash, gaps."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, func, select

from bridge.clock import FakeClock
from bridge.journal.models import CallLeg, RejectedCdrRow
from bridge.storage import migrate
from bridge.storage.database import Database
from jobs.base import JobContext, JobOutcome
from jobs.cdr_loader.loader import HISTORY_UPDATED, CdrLoader, GapCheck
from jobs.cdr_loader.records import Batch, SourceRow
from jobs.cdr_loader.sources.csv_master import MasterCsvSource
from tests.jobs.cdr_loader.cdr_data import CLIENT, day, master_csv, transfer_chain
from tests.jobs.cdr_loader.fakes import Directory, Events

MSK = ZoneInfo("Europe/Moscow")
T0 = datetime(2026, 1, 5, 9, 0)
NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
CTX = JobContext("cdr_loader", NOW)


def loader(db: Database, source: MasterCsvSource | object, **kw: object) -> CdrLoader:
    return CdrLoader(db, source, zone=MSK, clock=FakeClock(NOW), **kw)  # type: ignore[arg-type]


async def journal(db: Database) -> list[tuple[str, str, int]]:
    async with db.session() as s:
        rows = await s.execute(
            select(CallLeg.leg_key, CallLeg.linkedid, CallLeg.talk_seconds).order_by(
                CallLeg.leg_key
            )
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


@pytest.mark.parametrize("new_columns", [True, False])
async def test_loads_master_csv_once(
    db: Database, tmp_path: Path, new_columns: bool
) -> None:
    path = tmp_path / "Master.csv"
    rows = [*transfer_chain(T0), *day(T0 + timedelta(minutes=5), 40)]
    path.write_text(master_csv(rows, new_columns=new_columns), encoding="utf-8")
    events = Events()
    directory = Directory({"+79255283744": "ООО Ромашка"})
    job = loader(db, MasterCsvSource(path, batch_size=7, zone=MSK),
                 events=events, contacts=directory)  # fmt: skip

    first = await job(CTX)
    assert first.outcome is JobOutcome.OK
    assert first.counters["inserted"] == 43
    assert first.counters["rejected"] == 0
    again = await job(CTX)
    assert again.counters.get("inserted", 0) == 0
    assert len(await journal(db)) == 43
    assert [topic for topic, _ in events.published] == [HISTORY_UPDATED]
    async with db.session() as s:
        owner = await s.scalar(
            select(CallLeg.owner_name).where(CallLeg.external_number == "+" + CLIENT)
        )
    assert owner == "ООО Ромашка"


async def test_cp1251_master_csv_loads_its_cyrillic_as_written(
    db: Database, tmp_path: Path
) -> None:
    # Russian installs often keep cdr_csv in cp1251; the plain lines go the
    # column road, re-encoded, and must come out as the PBX wrote them.
    path = tmp_path / "Master.csv"
    rows = transfer_chain(T0)
    rows[0]["clid"] = '"Иванов Пётр" <79255283744>'
    rows[0]["userfield"] = "/var/spool/asterisk/monitor/Иванов.WAV"
    path.write_bytes(master_csv(rows).encode("cp1251"))
    source = MasterCsvSource(path, encoding="cp1251", zone=MSK)
    report = await loader(db, source)(CTX)
    assert (report.counters["inserted"], report.counters["rejected"]) == (3, 0)
    async with db.session() as s:
        recording, raw = (
            await s.execute(
                select(CallLeg.recording, CallLeg.raw).where(
                    CallLeg.leg_key == "1700000000.1#1"
                )
            )
        ).one()
    assert recording == "/var/spool/asterisk/monitor/Иванов.WAV"
    assert '"Иванов Пётр" <79255283744>' in json.loads(raw)["line"].replace('""', '"')


async def test_new_lines_are_picked_up_and_partial_line_waits(
    db: Database, tmp_path: Path
) -> None:
    path = tmp_path / "Master.csv"
    rows = list(day(T0, 10))
    text = master_csv(rows)
    path.write_text(text[: len(text) - 20], encoding="utf-8")  # last line half-written
    job = loader(db, MasterCsvSource(path, batch_size=4, overlap_bytes=300, zone=MSK))
    assert (await job(CTX)).counters["inserted"] == 9
    path.write_text(
        text + master_csv(list(day(T0 + timedelta(hours=1), 3, seed_base=5)))
    )
    report = await job(CTX)
    assert report.counters["inserted"] == 4
    assert len(await journal(db)) == 13


async def test_malformed_row_is_recorded_and_the_rest_loads(
    db: Database, tmp_path: Path
) -> None:
    path = tmp_path / "Master.csv"
    good = master_csv(list(day(T0, 3)))
    bad = '"","201","202","from-internal"\n'
    worse = (
        good.splitlines()[0]
        .replace("ANSWERED", "ANSWERED")
        .replace('"2026-01-05 09:00:00"', '"not a date"')
    )
    path.write_text(bad + worse + "\n" + good, encoding="utf-8")
    report = await loader(db, MasterCsvSource(path, zone=MSK))(CTX)
    assert report.counters["inserted"] == 3
    assert report.counters["rejected"] == 2
    async with db.session() as s:
        reasons = sorted((await s.scalars(select(RejectedCdrRow.reason))).all())
    assert reasons[0].startswith("expected 18 or 21 columns, got 4")
    assert reasons[1].startswith("start: not a timestamp")


async def test_a_quote_left_open_does_not_swallow_the_next_lines(
    db: Database, tmp_path: Path
) -> None:
    """Lines are read by one CSV reader, but each stays a record of its own."""
    path = tmp_path / "Master.csv"
    good = master_csv(list(day(T0, 5))).splitlines()
    open_quote = good[4][:-1]  # the last field's closing quote is missing
    lines = [good[0], open_quote, good[1], "", good[2], good[3]]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = await loader(db, MasterCsvSource(path, zone=MSK))(CTX)
    assert (report.counters["inserted"], report.counters["rejected"]) == (5, 0)


async def test_a_line_the_csv_reader_refuses_is_one_rejected_row(
    db: Database, tmp_path: Path
) -> None:
    path = tmp_path / "Master.csv"
    good = master_csv(list(day(T0, 3))).splitlines()
    huge = good[1].replace("from-trunk", "x" * 200_000)
    path.write_text("\n".join([good[0], huge, *good[1:]]) + "\n", encoding="utf-8")
    report = await loader(db, MasterCsvSource(path, zone=MSK))(CTX)
    assert (report.counters["inserted"], report.counters["rejected"]) == (3, 1)
    async with db.session() as s:
        reasons = (await s.scalars(select(RejectedCdrRow.reason))).all()
    assert reasons == ["not a CSV line: field larger than field limit (131072)"]


async def test_a_nul_in_a_line_rejects_that_line_and_the_load_goes_on(
    db: Database, tmp_path: Path
) -> None:
    """PostgreSQL's text cannot hold a NUL: stored, one would fail the batch on
    every run and hold the journal there. Rejected, it stops nothing."""
    path = tmp_path / "Master.csv"
    chain = master_csv(transfer_chain(T0)).splitlines()
    damaged = [
        chain[0].replace(".mp3", "\x00.mp3"),  # the recording path, a stored field
        chain[1].replace('"201"', '"2\x0001"', 1),  # the calling extension
    ]
    path.write_text("\n".join([*damaged, chain[2]]) + "\n", encoding="utf-8")
    job = loader(db, MasterCsvSource(path, zone=MSK))
    report = await job(CTX)
    assert report.outcome is JobOutcome.OK
    assert (report.counters["inserted"], report.counters["rejected"]) == (1, 2)
    async with db.session() as s:
        reasons = sorted((await s.scalars(select(RejectedCdrRow.reason))).all())
    assert reasons == ["src: a NUL character", "userfield: a NUL character"]
    later = master_csv(list(day(T0 + timedelta(minutes=5), 2))).splitlines()
    with path.open("a", encoding="utf-8") as fh:
        fh.write("\n".join(later) + "\n")
    report = await job(CTX)
    assert report.counters["inserted"] == 2
    assert len(await journal(db)) == 3


class Crashing:
    """Wraps a source and dies (as a killed process would) after N batches."""

    def __init__(self, inner: MasterCsvSource, after: int) -> None:
        self.inner = inner
        self.name = inner.name
        self.after = after

    async def batches(self, cursor: str | None) -> AsyncIterator[Batch]:
        served = 0
        async for batch in self.inner.batches(cursor):
            if served == self.after:
                raise KeyboardInterrupt  # not an Exception: nothing may catch it
            served += 1
            yield batch

    def window(
        self, since: datetime, until: datetime
    ) -> AsyncIterator[list[SourceRow]]:
        return self.inner.window(since, until)


async def test_crash_between_batches_then_rerun_gives_the_same_rows(
    db: Database, tmp_path: Path, sqlite_db: Database
) -> None:
    path = tmp_path / "Master.csv"
    path.write_text(master_csv(list(day(T0, 50))), encoding="utf-8")
    source = MasterCsvSource(path, batch_size=8, overlap_bytes=500, zone=MSK)

    with pytest.raises(KeyboardInterrupt):
        await loader(db, Crashing(source, after=3))(CTX)
    assert len(await journal(db)) == 24  # three committed batches
    await loader(db, source)(CTX)

    await loader(sqlite_db, source)(CTX)  # an uninterrupted load, for comparison
    assert await journal(db) == await journal(sqlite_db)
    assert len(await journal(db)) == 50


async def test_source_down_keeps_the_checkpoint(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "Master.csv"
    source = MasterCsvSource(path, zone=MSK)
    report = await loader(db, source)(CTX)
    assert report.outcome is JobOutcome.FAILED
    assert "source unavailable" in report.message
    path.write_text(master_csv(list(day(T0, 5))), encoding="utf-8")
    assert (await loader(db, source)(CTX)).counters["inserted"] == 5


async def test_gap_check_backfills_rows_the_journal_lacks(
    db: Database, tmp_path: Path
) -> None:
    path = tmp_path / "Master.csv"
    path.write_text(master_csv(list(day(T0, 20))), encoding="utf-8")
    source = MasterCsvSource(path, zone=MSK)
    await loader(db, source)(CTX)
    async with db.engine.begin() as conn:  # rows lost to some earlier fault
        await conn.execute(delete(CallLeg).where(CallLeg.sequence == 1))
    events = Events()
    gaps = GapCheck(hours=6, every=timedelta(minutes=60))
    report = await loader(db, source, gap_check=gaps, events=events)(CTX)
    assert report.counters["backfilled"] == 20
    assert report.counters.get("inserted", 0) == 0
    assert events.published[0][1]["inserted"] == 20
    async with db.session() as s:
        assert await s.scalar(select(func.count()).select_from(CallLeg)) == 20
    # Not due again within the hour.
    again = await loader(db, source, gap_check=gaps)(CTX)
    assert "gap_checks" not in again.counters


async def test_sigkill_mid_run_then_rerun_gives_the_same_rows(
    tmp_path: Path, sqlite_db: Database
) -> None:
    """A real process killed with SIGKILL while loading; the re-run completes it."""
    path = tmp_path / "Master.csv"
    path.write_text(master_csv(list(day(T0, 50))), encoding="utf-8")
    url = f"sqlite+aiosqlite:///{tmp_path / 'killed.db'}"
    killed_db = Database(url)
    await migrate.upgrade(killed_db)
    marker = tmp_path / "hanging"
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.jobs.cdr_loader.kill_target",
        url, str(path), str(marker),
    )  # fmt: skip
    exited = asyncio.ensure_future(child.wait())
    try:
        async with asyncio.timeout(30):
            while not marker.exists():  # across a process boundary: poll
                done, _ = await asyncio.wait([exited], timeout=0.05)
                if done:
                    raise AssertionError(f"loader exited {child.returncode}")
    finally:
        if child.returncode is None:
            child.send_signal(signal.SIGKILL)
        await exited
    try:
        # Killed mid-run: some whole batches of 8 committed (the loader writes
        # one batch while reading the next, so two or three), never part of one.
        committed = len(await journal(killed_db))
        assert committed in (16, 24)
        source = MasterCsvSource(path, batch_size=8, zone=MSK)
        await loader(killed_db, source)(CTX)
        await loader(sqlite_db, source)(CTX)
        assert await journal(killed_db) == await journal(sqlite_db)
    finally:
        await killed_db.dispose()


async def test_rotated_master_csv_is_read_from_the_start(
    db: Database, tmp_path: Path
) -> None:
    """logrotate moves Master.csv away and Asterisk starts a new, longer file."""
    path = tmp_path / "Master.csv"
    path.write_text(master_csv(list(day(T0, 3))), encoding="utf-8")
    job = loader(db, MasterCsvSource(path, zone=MSK))
    assert (await job(CTX)).counters["inserted"] == 3
    path.rename(tmp_path / "Master.csv.1")
    later = T0 + timedelta(hours=1)
    path.write_text(master_csv(list(day(later, 6, seed_base=42))), encoding="utf-8")
    assert (await job(CTX)).counters["inserted"] == 6
    assert len(await journal(db)) == 9
