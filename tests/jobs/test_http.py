"""The jobs admin API on the whole service over real sockets."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from jobs.models import JobSetting
from tests.jobs.conftest import GatedBody

JOBS = "/api/v1/jobs"


@pytest.fixture
async def http(service):
    async with aiohttp.ClientSession(
        service.url, headers=service.admin_headers
    ) as session:
        yield session


async def get_json(http: aiohttp.ClientSession, path: str, status: int = 200) -> Any:
    async with http.get(path) as response:
        assert response.status == status, await response.text()
        return await response.json()


async def test_list_shows_the_seven_jobs_in_1c_words(http):
    body = await get_json(http, JOBS)
    jobs = {j["id"]: j for j in body["jobs"]}
    assert list(jobs) == [
        "cdr_loader",
        "contact_refresh",
        "contact_refresh_operative",
        "routing_table",
        "events_exchange",
        "contacts_exchange",
        "metrics",
    ]
    cdr = jobs["cdr_loader"]
    assert cdr["title"] == "Телефония: Загрузка истории звонков"
    assert (
        cdr["schedule_text"] == "каждый день; с 8:00:00 по 21:00:00 каждые 120 секунд."
    )
    assert cdr["enabled"] is True
    assert cdr["next_run_at"] is not None
    assert jobs["events_exchange"]["kind"] == "window"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", JOBS),
        ("GET", f"{JOBS}/cdr_loader"),
        ("PATCH", f"{JOBS}/cdr_loader"),
        ("POST", f"{JOBS}/cdr_loader/run"),
        ("GET", f"{JOBS}/cdr_loader/runs"),
        ("GET", f"{JOBS}/metrics/preview"),
    ],
)
async def test_every_route_needs_the_admin_token(service, method, path):
    async with aiohttp.ClientSession(service.url) as anonymous:
        for headers in ({}, {"Authorization": "Bearer wrong"}):
            async with anonymous.request(
                method, path, headers=headers, json={"enabled": False}
            ) as response:
                assert response.status == 401
                assert (await response.json())["error"]["id"] == "unauthorized"
    async with aiohttp.ClientSession(service.url, headers=service.admin_headers) as s:
        job = await get_json(s, f"{JOBS}/cdr_loader")
        assert job["enabled"] is True
        assert job["last_run"] is None


async def test_unknown_job_is_404(http):
    for method, path in [
        ("GET", f"{JOBS}/nope"),
        ("PATCH", f"{JOBS}/nope"),
        ("POST", f"{JOBS}/nope/run"),
        ("GET", f"{JOBS}/nope/runs"),
    ]:
        async with http.request(method, path, json={"enabled": False}) as response:
            assert response.status == 404
            assert (await response.json())["error"]["id"] == "unknown-job"


@pytest.mark.parametrize(
    ("schedule", "field"),
    [
        ({"begin_time": "21:00:00", "end_time": "08:00:00"}, "schedule.end_time"),
        ({"repeat_period_seconds": 0}, "schedule.repeat_period_seconds"),
        ({"week_days": ["friyay"]}, "schedule.week_days.0"),
        ({"hourly": True}, "schedule.hourly"),
    ],
)
async def test_bad_schedule_is_400_naming_the_field_and_changes_nothing(
    http, service, schedule, field
):
    before = await get_json(http, f"{JOBS}/cdr_loader")
    async with http.patch(
        f"{JOBS}/cdr_loader", json={"enabled": False, "schedule": schedule}
    ) as response:
        assert response.status == 400
        error = (await response.json())["error"]
    assert error["id"] == "invalid-field"
    assert error["details"]["field"] == field
    after = await get_json(http, f"{JOBS}/cdr_loader")
    assert after["schedule"] == before["schedule"]
    assert after["enabled"] is True


async def test_patch_persists_and_applies_at_once(http, service):
    schedule = {
        "begin_time": "09:00:00",
        "end_time": "18:00:00",
        "repeat_period_seconds": 300,
        "week_days": ["monday", "friday"],
    }
    async with http.patch(f"{JOBS}/routing_table", json={"schedule": schedule}) as r:
        assert r.status == 200
        job = await r.json()
    assert job["schedule_text"] == (
        "по дням недели (понедельник, пятница); "
        "с 9:00:00 по 18:00:00 каждые 300 секунд."
    )
    async with http.patch(f"{JOBS}/routing_table", json={"enabled": False}) as r:
        assert r.status == 200
        job = await r.json()
    assert job["enabled"] is False
    assert job["next_run_at"] is None
    async with service.core.db.session() as session:
        row = await session.get(JobSetting, "routing_table")
        assert row is not None
        assert row.enabled is False
        assert '"repeat_period_seconds":300' in row.schedule
    async with http.patch(f"{JOBS}/routing_table", json={}) as r:
        assert r.status == 400


async def test_run_now_records_an_honest_not_configured(http):
    # Disabled, so a Saturday-evening scheduled fire cannot join the history.
    async with http.patch(f"{JOBS}/contact_refresh", json={"enabled": False}) as r:
        assert r.status == 200
    async with http.post(f"{JOBS}/contact_refresh/run?wait=1") as response:
        assert response.status == 200
        run = (await response.json())["run"]
    assert run["outcome"] == "not_configured"
    assert run["trigger"] == "manual"
    runs = (await get_json(http, f"{JOBS}/contact_refresh/runs"))["runs"]
    assert [r["id"] for r in runs] == [run["id"]]
    job = await get_json(http, f"{JOBS}/contact_refresh")
    assert job["last_run"]["id"] == run["id"]
    async with http.get("/metrics") as response:
        exposition = await response.text()
    assert (
        'telebridge_job_runs_total{job="contact_refresh",outcome="not_configured"} 1.0'
        in exposition
    )


async def test_run_now_while_running_is_refused(http, service):
    gated = GatedBody()
    service.core.job_bodies["cdr_loader"] = gated
    # Disabled, so no scheduled fire can race the manual ones (run-now still works).
    async with http.patch(f"{JOBS}/cdr_loader", json={"enabled": False}) as r:
        assert r.status == 200
    async with http.post(f"{JOBS}/cdr_loader/run") as response:
        assert response.status == 202
        started = (await response.json())["run"]
    assert started["outcome"] is None
    async with asyncio.timeout(5):
        await gated.entered.wait()
    async with http.post(f"{JOBS}/cdr_loader/run") as response:
        assert response.status == 409
        error = (await response.json())["error"]
    assert error["id"] == "job-running"
    assert "running" in error["message"]
    assert (await get_json(http, f"{JOBS}/cdr_loader"))["running"] is True
    gated.gate.set()
    async with asyncio.timeout(5):
        while True:
            runs = (await get_json(http, f"{JOBS}/cdr_loader/runs"))["runs"]
            if runs[0]["outcome"] is not None:
                break
    assert [r["outcome"] for r in runs] == ["ok"]


async def test_runs_limit_is_validated(http):
    async with http.get(f"{JOBS}/cdr_loader/runs?limit=0") as response:
        assert response.status == 400
        assert (await response.json())["error"]["details"]["field"] == "limit"


async def test_scheduler_health_and_openapi(http):
    health = await get_json(http, "/healthz")
    scheduler = health["components"]["scheduler"]
    assert scheduler["state"] == "ok"
    assert scheduler["data"]["role"] in ("leader", "standby")
    paths = (await get_json(http, "/api/v1/openapi.json"))["paths"]
    assert {"get", "patch"} <= set(paths[f"{JOBS}/{{id}}"])
    assert "post" in paths[f"{JOBS}/{{id}}/run"]
    assert "get" in paths[f"{JOBS}/metrics/preview"]


async def test_settings_survive_a_restart(tmp_path):
    from bridge.service import running
    from tests.conftest import make_config

    config = make_config(tmp_path)
    headers = {"Authorization": "Bearer test-admin-token-0123456789"}
    async with running(config) as (_core, where):
        url = "http://{}:{}".format(*where.http)
        async with (
            aiohttp.ClientSession(url, headers=headers) as s,
            s.patch(f"{JOBS}/metrics", json={"enabled": False}) as r,
        ):
            assert r.status == 200
    async with running(config) as (core, where):
        url = "http://{}:{}".format(*where.http)
        async with aiohttp.ClientSession(url, headers=headers) as s:
            assert (await get_json(s, f"{JOBS}/metrics"))["enabled"] is False
        async with core.db.session() as session:
            assert len(list(await session.scalars(select(JobSetting)))) == 7
