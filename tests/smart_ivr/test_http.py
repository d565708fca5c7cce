"""The IVR endpoints over real HTTP on the running service."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from bridge.config import Config
from bridge.service import running
from jobs.base import JobContext, JobOutcome
from jobs.routing_table.ranking import Interaction
from jobs.routing_table.store import RoutingStore
from tests.conftest import ADMIN_TOKEN, RunningService, make_config
from tests.jobs.cdr_loader.cdr_data import CLIENT, master_csv, transfer_chain

MSK = ZoneInfo("Europe/Moscow")


@pytest.fixture
def config(tmp_path: Path) -> Config:
    """A cold prompt is synthesized for real by espeak; give a loaded machine time."""
    return make_config(tmp_path, ivr={"deadline_seconds": 10})


async def seed(service: RunningService) -> None:
    core = service.core
    store = RoutingStore(core.db)
    now = core.clock.now()
    await store.add(
        [
            Interaction("+79161234567", "201", "calls", now - timedelta(days=1), 3),
            Interaction("+79161234567", "202", "calls", now - timedelta(days=2), 1),
        ]
    )


async def test_ivr_menu_for_a_known_caller(service: RunningService) -> None:
    await seed(service)
    async with (
        aiohttp.ClientSession(headers=service.admin_headers) as s,
        s.get(service.url + "/api/v1/ivr", params={"number": "89161234567"}) as r,
    ):
        body = await r.json()
    assert r.status == 200
    assert body["new_client"] is False
    assert [(e["digit"], e["extension"]) for e in body["entries"]] == [
        ("1", "201"),
        ("2", "202"),
    ]
    assert body["entries"][0]["reason"].startswith("responsible; score 3")
    assert body["destinations"] == {"default": "0", "emergency": "0"}
    assert body["skipped"] == []


@pytest.mark.parametrize("number", ["", "garbage", "+7999"])
async def test_unknown_or_malformed_number_is_a_new_client(
    service: RunningService, number: str
) -> None:
    async with (
        aiohttp.ClientSession(headers=service.admin_headers) as s,
        s.get(service.url + "/api/v1/ivr", params={"number": number}) as r,
    ):
        body = await r.json()
    assert r.status == 200
    assert body["new_client"] is True
    assert body["entries"] == []


async def test_preview_shows_who_was_left_out(service: RunningService) -> None:
    await seed(service)
    async with (
        aiohttp.ClientSession(headers=service.admin_headers) as s,
        s.get(
            service.url + "/api/v1/ivr/preview", params={"number": "+79161234567"}
        ) as r,
    ):
        body = await r.json()
    assert r.status == 200
    assert [e["extension"] for e in body["entries"]] == ["201", "202"]


async def test_ivr_needs_the_admin_token_and_a_sane_number(
    service: RunningService,
) -> None:
    async with aiohttp.ClientSession() as s:
        async with s.get(service.url + "/api/v1/ivr?number=1") as r:
            assert r.status == 401
            assert (await r.json())["error"]["id"] == "unauthorized"
        async with s.get(
            service.url + "/api/v1/ivr",
            params={"number": "9" * 65},
            headers=service.admin_headers,
        ) as r:
            assert r.status == 400
            assert (await r.json())["error"]["details"]["field"] == "number"


async def test_from_pbx_history_to_a_personal_menu(tmp_path: Path) -> None:
    """The whole path: Master.csv → cdr_loader → journal → routing_table → IVR.

    The caller talked to 201, was transferred, and finished with 202: both rank,
    202 first as the more recent (equal weight, recency breaks the tie)."""
    master = tmp_path / "Master.csv"
    yesterday = datetime.now(MSK).replace(microsecond=0, tzinfo=None) - timedelta(
        days=1
    )
    master.write_text(master_csv(transfer_chain(yesterday)), encoding="utf-8")
    config = make_config(
        tmp_path,
        cdr={"source": "csv", "path": str(master)},
        ivr={"deadline_seconds": 10},
    )
    async with running(config) as (core, where):
        now = datetime.now(UTC)
        loaded = await core.job_bodies["cdr_loader"](JobContext("cdr_loader", now))
        assert loaded.outcome is JobOutcome.OK, loaded
        ranked = await core.job_bodies["routing_table"](
            JobContext("routing_table", now)
        )
        assert ranked.outcome is JobOutcome.OK, ranked
        assert ranked.counters["documents"] == 2
        url = "http://{}:{}/api/v1/ivr".format(*where.http)
        async with (
            aiohttp.ClientSession(
                headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
            ) as s,
            s.get(url, params={"number": "8" + CLIENT[1:]}) as r,
        ):
            body = await r.json()
    assert r.status == 200
    assert body["new_client"] is False
    assert [(e["digit"], e["extension"]) for e in body["entries"]] == [
        ("1", "202"),
        ("2", "201"),
    ]
    assert body["prompt"]["url"].startswith("/api/v1/ivr/prompts/")


async def test_cli_preview_prints_the_menu(
    service: RunningService, tmp_path: Path
) -> None:
    await seed(service)
    config = tmp_path / "cli.toml"
    config.write_text(f'[auth]\nadmin_token = "{ADMIN_TOKEN}"\n', encoding="utf-8")
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bridge.cli",
        "ivr",
        "preview",
        "8 916 123-45-67",
        "--url",
        service.url,
        "--config",
        str(config),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(30):
        stdout, stderr = await proc.communicate()
    assert proc.returncode == 0, stderr.decode()
    text = stdout.decode()
    assert "caller 8 916 123-45-67: known client" in text
    assert "1  201" in text
    assert "no choice → 0; failure → 0" in text
