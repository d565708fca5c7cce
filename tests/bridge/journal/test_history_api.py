"""The history, export, recording and statistics API over real HTTP."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from bridge.longpoll.consumer_auth import Consumer, ConsumerKind
from bridge.service import running
from jobs.base import JobContext, JobOutcome
from tests.conftest import RunningService, make_config
from tests.jobs.cdr_loader.cdr_data import CLIENT, LINE, cdr, day, master_csv
from tests.jobs.cdr_loader.cdr_data import transfer_chain as chain

MSK = ZoneInfo("Europe/Moscow")
T0 = datetime(2026, 1, 5, 10, 0)
DAY = {"from": "2026-01-05", "to": "2026-01-05"}


def history(now_local: datetime) -> list[dict[str, str]]:
    """Seed 004's transfer chain, 40 varied calls and one call in "today"."""
    rows = [*chain(T0), *day(T0 + timedelta(minutes=10), 40)]
    rows[0]["did"] = LINE
    rows.append(
        cdr(
            start=now_local.replace(tzinfo=None),
            src="205",
            dst="84951234567",
            channel="PJSIP/205-1",
            dstchannel="PJSIP/trunk-1",
            billsec=9,
            uniqueid="1800000000.1",
            sequence=1,
        )
    )
    return rows


class Panels:
    """Stands in for the long-poll consumer store: one 1C base, one panel."""

    async def authenticate(self, token: str) -> Consumer | None:
        return {
            "onec-token": Consumer("base", ConsumerKind.ONEC),
            "panel-token": Consumer("p", ConsumerKind.PANEL, "201"),
        }.get(token)

    async def issue_panel_token(self, extension: str, user_id: str) -> str:
        raise NotImplementedError


@pytest.fixture
async def journal(tmp_path: Path) -> AsyncIterator[RunningService]:
    master = tmp_path / "Master.csv"
    now_local = datetime.now(MSK).replace(microsecond=0)
    master.write_text(master_csv(history(now_local)), encoding="utf-8")
    recs = tmp_path / "monitor"
    recs.mkdir()
    (recs / "1700000000.1.mp3").write_bytes(b"ID3fake-mp3")
    (tmp_path / "secret.mp3").write_bytes(b"not yours")
    config = make_config(
        tmp_path,
        cdr={"source": "csv", "path": str(master), "recordings_dir": str(recs)},
    )
    async with running(config) as (core, where):
        core.consumers = Panels()
        report = await core.job_bodies["cdr_loader"](
            JobContext("cdr_loader", datetime.now(UTC))
        )
        assert report.outcome is JobOutcome.OK, report
        assert report.counters["inserted"] == 44
        yield RunningService(core, where)


async def get(
    svc: RunningService, path: str, token: str | None = None, **params: str
) -> tuple[int, Any]:
    headers = (
        svc.admin_headers if token is None else {"Authorization": f"Bearer {token}"}
    )
    async with (
        aiohttp.ClientSession() as http,
        http.get(svc.url + path, params=params, headers=headers) as resp,
    ):
        if resp.content_type == "application/json":
            return resp.status, await resp.json()
        return resp.status, await resp.read()


async def test_by_number_either_side(journal: RunningService) -> None:
    status, body = await get(journal, "/api/v1/calls", q="8 (925) 528-37-44", **DAY)
    assert status == 200
    assert {x["linkedid"] for x in body["items"]} == {"1700000000.1"}
    assert len(body["items"]) == 2  # the two legs the client was on
    status, body = await get(journal, "/api/v1/calls", q="202", **DAY)
    chain_legs = [x for x in body["items"] if x["linkedid"] == "1700000000.1"]
    assert [x["sequence"] for x in chain_legs] == [3, 2]
    assert len(body["items"]) == 3  # and its own outgoing call


async def test_two_numbers_gives_answered_calls_between_them(
    journal: RunningService,
) -> None:
    _, body = await get(journal, "/api/v1/calls", q=f"{CLIENT} 202", **DAY)
    assert [(x["src"], x["employee"]) for x in body["items"]] == [(CLIENT, "202")]


async def test_default_period_is_today(journal: RunningService) -> None:
    _, body = await get(journal, "/api/v1/calls")
    assert [x["call_id"] for x in body["items"]] == ["1800000000.1"]


async def test_filters_direction_missed_employee_and_paging(
    journal: RunningService,
) -> None:
    _, missed = await get(journal, "/api/v1/calls", missed="true", limit="1000", **DAY)
    assert len(missed["items"]) == 10
    assert all(x["direction"] == "incoming" and x["talk_seconds"] == 0
               for x in missed["items"])  # fmt: skip
    _, out = await get(journal, "/api/v1/calls", direction="outgoing", **DAY)
    assert {x["status"] for x in out["items"]} == {"дозвонились"}
    _, mine = await get(journal, "/api/v1/calls", employee="201", **DAY)
    assert {x["employee"] for x in mine["items"]} == {"201"}
    _, page1 = await get(journal, "/api/v1/calls", limit="20", **DAY)
    _, page2 = await get(journal, "/api/v1/calls", limit="20", offset="20", **DAY)
    _, page3 = await get(journal, "/api/v1/calls", limit="20", offset="40", **DAY)
    assert page1["next_offset"] == 20
    assert page3["next_offset"] is None
    ids = [x["id"] for p in (page1, page2, page3) for x in p["items"]]
    assert len(ids) == len(set(ids)) == 43


async def test_call_by_linkedid_shows_the_transfer_chain(
    journal: RunningService,
) -> None:
    status, call = await get(journal, "/api/v1/calls/1700000000.1")
    assert status == 200
    assert [(x["sequence"], x["employee"]) for x in call["legs"]] == [
        (1, "201"), (2, "201"), (3, "202"),
    ]  # fmt: skip
    assert call["status"] == "принят"
    assert call["talk_seconds"] == 170
    _, listed = await get(journal, "/api/v1/calls", linkedid="1700000000.1")
    assert len(listed["items"]) == 3  # no date filter when looking up a linkedid
    status, err = await get(journal, "/api/v1/calls/nope")
    assert status == 404
    assert err["error"]["id"] == "no-call"


async def test_export_csv(journal: RunningService) -> None:
    status, raw = await get(journal, "/api/v1/calls/export", missed="1", **DAY)
    assert status == 200
    text = raw.decode("utf-8")
    assert text.startswith("\ufeffid,linkedid")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert len(rows) == 10
    assert {r["status"] for r in rows} == {"нет ответа"}


async def test_recording_confined_to_the_folder(journal: RunningService) -> None:
    _, call = await get(journal, "/api/v1/calls/1700000000.1")
    first, second = call["legs"][0], call["legs"][1]
    assert first["has_recording"]
    status, audio = await get(journal, f"/api/v1/calls/{first['id']}/recording")
    assert (status, audio) == (200, b"ID3fake-mp3")
    status, err = await get(journal, f"/api/v1/calls/{second['id']}/recording")
    assert status == 404
    assert err["error"]["id"] == "no-recording"


async def test_stats_by_direction_and_number_type(journal: RunningService) -> None:
    status, body = await get(
        journal, "/api/v1/stats/calls", bucket="day", group_by="direction", **DAY
    )
    assert status == 200
    by = {r["group"]: r for r in body["rows"]}
    assert by["incoming"]["calls"] == 21  # 20 generated + the transfer chain
    assert by["incoming"]["missed"] == 10
    assert by["incoming"]["missed_share"] == round(10 / 21, 4)
    assert by["outgoing"]["answered_share"] == 1.0
    assert by["internal"]["calls"] == 10
    _, types = await get(journal, "/api/v1/stats/calls", group_by="number_type", **DAY)
    assert {r["group"] for r in types["rows"]} == {"mobile", "unknown"}
    _, hours = await get(journal, "/api/v1/stats/calls", bucket="hour", **DAY)
    assert sum(r["calls"] for r in hours["rows"]) == 41
    assert hours["rows"][0]["start"] == "2026-01-05T10:00:00+03:00"


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/api/v1/calls", {"limit": "0"}, "limit"),
        ("/api/v1/calls", {"offset": "-1"}, "offset"),
        ("/api/v1/calls", {"from": "yesterday"}, "from"),
        ("/api/v1/calls", {"from": "2026-01-06", "to": "2026-01-05"}, "to"),
        ("/api/v1/calls", {"direction": "sideways"}, "direction"),
        ("/api/v1/calls", {"missed": "maybe"}, "missed"),
        ("/api/v1/calls", {"q": "5"}, "q"),
        ("/api/v1/calls", {"q": "abc"}, "q"),
        ("/api/v1/calls", {"employee": "+74951234567"}, "employee"),
        ("/api/v1/stats/calls", {"bucket": "year"}, "bucket"),
        ("/api/v1/stats/calls", {"group_by": "color"}, "group_by"),
        ("/api/v1/stats/calls", {"from": "2020-01-01", "to": "2026-01-01"}, "to"),
    ],
)
async def test_bad_parameters_are_400_naming_them(
    journal: RunningService, path: str, params: dict[str, str], field: str
) -> None:
    status, body = await get(journal, path, **params)
    assert status == 400
    assert body["error"]["details"]["field"] == field


async def test_auth_admin_or_onec_consumer_only(journal: RunningService) -> None:
    assert (await get(journal, "/api/v1/calls", token="onec-token", **DAY))[0] == 200
    assert (await get(journal, "/api/v1/calls", token="panel-token"))[0] == 403
    assert (await get(journal, "/api/v1/calls", token="wrong"))[0] == 401
    assert (await get(journal, "/api/v1/stats/calls", token="wrong"))[0] == 401


async def test_operations_are_in_openapi(journal: RunningService) -> None:
    _, doc = await get(journal, "/api/v1/openapi.json")
    for path in ("/api/v1/calls", "/api/v1/calls/export", "/api/v1/calls/{linkedid}",
                 "/api/v1/calls/{id}/recording", "/api/v1/stats/calls"):  # fmt: skip
        assert "get" in doc["paths"][path]
