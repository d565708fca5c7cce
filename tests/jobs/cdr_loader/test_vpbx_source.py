"""The Rostelecom export source against a fake of the integration API.

`FakeVpbx` stands in for Rostelecom's `domain_call_history` /
`history_file_completed` / `download_call_history` (seed 002 §1.2, §2.4): the file
is a gzip CSV; the notification may never come, in which case the source polls
with a doubling delay. Column names follow the xls journal of §2.4 (the API's own
columns are undocumented).
"""

from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bridge.clock import FakeClock
from bridge.journal.models import CallLeg
from bridge.storage.database import Database
from jobs.base import JobContext, JobOutcome
from jobs.cdr_loader.loader import CdrLoader
from jobs.cdr_loader.sources.base import SourceUnavailable
from jobs.cdr_loader.sources.vpbx_export import (
    ExportFailed,
    VpbxExportSource,
    parse_export,
)

MSK = ZoneInfo("Europe/Moscow")
NOW = datetime(2021, 3, 9, 20, 0, tzinfo=UTC)
EXPORT = (
    "Абонент А;Абонент Б;Тип вызова;Дата;Время;Длительность;Запись;Имя файла\n"
    "sip:79992467198@SMoscow007;sip:get8@SMoscow007;Входящий;09.03.2021;21:40:21;"
    "5;Да;get8_in_79992467198_2021_03_09_214021.mp3\n"
    "sip:get8@SMoscow007;sip:79045491746@SN;Исходящий;09.03.2021;12:29:10;0:01:29;"
    "Да;get8_out_79045491746_2021_03_09_122910.mp3\n"
    "sip:b2@SMoscow007;sip:b1@SMoscow007;Внутренний;09.03.2021;14:56:50;0;Нет;\n"
    "sip:74996734597@18;sip:get8@SMoscow007;Входящий;09.03.2021;15:00:00;0;Нет;\n"
    "sip:74996734597@18;sip:get8@SMoscow007;Входящий;вчера;15:00:00;0;Нет;\n"
)


class FakeVpbx:
    def __init__(self, clock: FakeClock, *, notify: bool, ready_after: int = 0) -> None:
        self.clock = clock
        self.notify = notify
        self.ready_after = ready_after
        self.waits: list[float] = []
        self.windows: list[tuple[datetime, datetime]] = []
        self.fail = False

    async def request_export(self, since: datetime, until: datetime) -> str:
        if self.fail:
            raise ExportFailed("HTTP 503")
        self.windows.append((since, until))
        return f"exp-{len(self.windows)}"

    async def wait_completed(self, export_id: str, within: float) -> bool:
        self.waits.append(within)
        if self.notify:
            return True
        self.clock.advance(within)  # the wait ran out with no notification
        return False

    async def download(self, export_id: str) -> bytes | None:
        if len(self.waits) <= self.ready_after:
            return None
        return gzip.compress(EXPORT.encode("cp1251"))


def source(fake: FakeVpbx, clock: FakeClock, **kw: float) -> VpbxExportSource:
    return VpbxExportSource(fake, clock, poll_first=5, poll_max=20, **kw)  # type: ignore[arg-type]


def test_columns_found_by_header_name_and_raw_row_kept() -> None:
    rows = parse_export(gzip.compress(EXPORT.encode("utf-8")))
    assert len(rows) == 5
    first = rows[0]
    assert first.fields["src"] == "79992467198"
    assert first.fields["direction"] == "incoming"
    assert first.fields["employee"] == "get8"
    assert rows[1].fields["duration"] == "89"
    assert first.raw["Имя файла"] == "get8_in_79992467198_2021_03_09_214021.mp3"


async def test_loads_after_notification(db: Database) -> None:
    clock = FakeClock(NOW)
    fake = FakeVpbx(clock, notify=True)
    loader = CdrLoader(db, source(fake, clock), zone=MSK, clock=clock)
    report = await loader(JobContext("cdr_loader", NOW))
    assert report.outcome is JobOutcome.OK
    assert (report.counters["inserted"], report.counters["rejected"]) == (4, 1)
    async with db.session() as s:
        legs = (await s.scalars(select(CallLeg).order_by(CallLeg.started_at))).all()
    assert [(x.direction, x.status, x.employee) for x in legs] == [
        ("outgoing", "дозвонились", "get8"),
        ("internal", "нет ответа", "b2"),
        ("incoming", "нет ответа", "get8"),
        ("incoming", "принят", "get8"),
    ]
    assert legs[0].talk_seconds == 89
    assert legs[3].started_at == datetime(2021, 3, 9, 18, 40, 21, tzinfo=UTC)
    assert '"Абонент А": "sip:79992467198@SMoscow007"' in legs[3].raw
    # The next run asks again from the end of this window, minus the overlap.
    clock.advance(120)
    again = await loader(JobContext("cdr_loader", clock.now()))
    assert again.counters.get("inserted", 0) == 0
    assert fake.windows[1][0] == NOW - timedelta(minutes=15)


async def test_polls_with_backoff_when_no_notification(sqlite_db: Database) -> None:
    clock = FakeClock(NOW)
    fake = FakeVpbx(clock, notify=False, ready_after=4)
    loader = CdrLoader(sqlite_db, source(fake, clock), zone=MSK, clock=clock)
    report = await loader(JobContext("cdr_loader", NOW))
    assert report.counters["inserted"] == 4
    assert fake.waits == [5, 10, 20, 20, 20]


async def test_gives_up_and_keeps_checkpoint(sqlite_db: Database) -> None:
    clock = FakeClock(NOW)
    fake = FakeVpbx(clock, notify=False, ready_after=10**6)
    loader = CdrLoader(
        sqlite_db, source(fake, clock, timeout=60), zone=MSK, clock=clock
    )
    report = await loader(JobContext("cdr_loader", NOW))
    assert report.outcome is JobOutcome.FAILED
    assert "not ready after 60 s" in report.message
    fake.fail = True
    report = await loader(JobContext("cdr_loader", NOW))
    assert "HTTP 503" in report.message


def test_a_broken_gzip_is_unavailable() -> None:
    with pytest.raises(SourceUnavailable, match="not gzip"):
        parse_export(b"\x1f\x8b" + b"not really gzip")


def test_neither_gzip_nor_csv_is_unavailable() -> None:
    with pytest.raises(SourceUnavailable, match="not a CSV"):
        parse_export(b"plain text")


def test_an_unpacked_csv_is_read_too() -> None:
    rows = parse_export(
        b"session_id;orig_number;dest_number;start_call_date;duration\n"
        b"SID-1;79161234567;74951234567;2026-01-05 12:00:00;42\n"
    )
    assert len(rows) == 1
