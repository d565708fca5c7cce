"""The MikoPBX REST source against a fake `/pbxcore/api/cdr/get_data`.

The fake follows ModulePT1CCore's GetController as research anchor-mikopbx-1c §5.2
describes it: rows with id > offset ordered by id, `limit` capped at 600, XML
`<cdr-table-askozia><cdr-row k="rawurlencoded v"/>` by default or a JSON array with
`format=json` (newer modules), an empty body when the CDR worker is busy.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import select

from bridge.clock import FakeClock
from bridge.journal.models import CallLeg
from bridge.storage.database import Database
from jobs.base import JobContext, JobOutcome
from jobs.cdr_loader.loader import CdrLoader
from jobs.cdr_loader.sources.mikopbx_rest import MikoPbxRestSource

MSK = ZoneInfo("Europe/Moscow")
NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
CTX = JobContext("cdr_loader", NOW)
CAP = 600


def cdr_row(i: int) -> dict[str, str]:
    start = datetime(2026, 1, 5, 9, 0) + timedelta(seconds=7 * i)
    answered = i % 3 != 0
    return {
        "id": str(i), "start": start.strftime("%Y-%m-%d %H:%M:%S.000"),
        "endtime": (start + timedelta(seconds=40)).strftime("%Y-%m-%d %H:%M:%S.000"),
        "answer": (start + timedelta(seconds=5)).strftime("%Y-%m-%d %H:%M:%S.000")
        if answered else "",
        "src_chan": f"PJSIP/SIP-TRUNK-{i:04d}", "src_num": f"7916{i:07d}",
        "dst_chan": f"PJSIP/2{i % 50:02d}-{i:08x}", "dst_num": f"2{i % 50:02d}",
        "UNIQUEID": f"mikopbx-{1736060400 + i}.{i}", "linkedid": f"mikopbx-{i}",
        "did": "74952293042", "disposition": "ANSWERED" if answered else "NO ANSWER",
        "recordingfile": f"/storage/monitor/{i}.mp3" if answered else "",
        "appname": "Dial", "is_app": "0", "duration": "40",
        "billsec": "35" if answered else "0", "transfer": "0",
    }  # fmt: skip


class FakeMikoPbx:
    def __init__(self, rows: int, *, as_json: bool) -> None:
        self.rows = [cdr_row(i) for i in range(1, rows + 1)]
        self.as_json = as_json
        self.busy = False
        self.offsets: list[int] = []
        self.app = web.Application()
        self.app.router.add_get("/pbxcore/api/cdr/get_data", self.get_data)

    async def get_data(self, request: web.Request) -> web.Response:
        if self.busy:
            return web.Response(text="")
        offset = int(request.query.get("offset", "0"))
        limit = min(int(request.query.get("limit", "600")), CAP)
        self.offsets.append(offset)
        rows = [r for r in self.rows if int(r["id"]) > offset][:limit]
        if self.as_json and request.query.get("format") == "json":
            return web.json_response(rows)
        attrs = (" ".join(f'{k}="{quote(v)}"' for k, v in row.items()) for row in rows)
        body = (
            '<?xml version="1.0"?>\n<cdr-table-askozia>'
            + "".join(f"<cdr-row {a}/>" for a in attrs)
            + "</cdr-table-askozia>"
        )
        return web.Response(text=body, content_type="text/xml")


@pytest.fixture(params=["json", "xml"])
async def pbx(request: pytest.FixtureRequest) -> AsyncIterator[tuple[FakeMikoPbx, str]]:
    fake = FakeMikoPbx(1500, as_json=request.param == "json")
    server = TestServer(fake.app)
    await server.start_server()
    try:
        yield fake, str(server.make_url("/"))
    finally:
        await server.close()


async def test_pages_by_id_with_overlap(
    db: Database, pbx: tuple[FakeMikoPbx, str]
) -> None:
    fake, url = pbx
    source = MikoPbxRestSource(url, limit=600, overlap_rows=100)
    loader = CdrLoader(db, source, zone=MSK, clock=FakeClock(NOW))
    report = await loader(CTX)
    assert report.outcome is JobOutcome.OK
    assert report.counters["inserted"] == 1500
    assert fake.offsets == [0, 600, 1200]
    fake.rows.append(cdr_row(1501))
    report = await loader(CTX)
    assert report.counters["inserted"] == 1
    assert report.counters["duplicates"] == 100
    assert fake.offsets[-1] == 1400
    async with db.session() as s:
        leg = await s.scalar(select(CallLeg).where(CallLeg.leg_key == "id:2"))
    assert leg is not None
    assert (leg.employee, leg.status, leg.talk_seconds) == ("202", "принят", 35)
    assert leg.recording == "/storage/monitor/2.mp3"


async def test_busy_worker_keeps_checkpoint(
    sqlite_db: Database, pbx: tuple[FakeMikoPbx, str]
) -> None:
    fake, url = pbx
    fake.busy = True
    source = MikoPbxRestSource(url)
    loader = CdrLoader(sqlite_db, source, zone=MSK, clock=FakeClock(NOW))
    report = await loader(CTX)
    assert report.outcome is JobOutcome.FAILED
    assert "empty answer" in report.message
    fake.busy = False
    assert (await loader(CTX)).counters["inserted"] == 1500


async def test_pbx_down_is_a_failed_run(sqlite_db: Database) -> None:
    server = TestServer(web.Application())
    await server.start_server()
    url = str(server.make_url("/"))
    await server.close()
    loader = CdrLoader(sqlite_db, MikoPbxRestSource(url, timeout=5), zone=MSK,
                       clock=FakeClock(NOW))  # fmt: skip
    report = await loader(CTX)
    assert report.outcome is JobOutcome.FAILED
    assert json.dumps(report.counters) == "{}"
