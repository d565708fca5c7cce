"""The metrics job: no numbers, names or secrets in the payload; delivery retries."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import Column, Integer, MetaData, String, Table, insert

from bridge.storage.database import Database
from jobs.base import JobContext
from jobs.metrics.job import metrics_body
from jobs.metrics.payload import build_payload
from jobs.metrics.sender import SendFailed, send
from tests.conftest import make_config
from tests.jobs.conftest import T0

NUMBERS = ["+79161234567", "79161234567", "84957771122", "4957771122", "201"]
NAMES = ["Иванов Иван Иванович", "ООО Ромашка", "Petrov"]
SECRETS = ["ami-secret-pass", "onec-password-xyz", "vpbx-sign-key-123"]

# Stand-ins for the journal and contact tables other features will add: the payload
# must count them without copying anything out of them.
_test_tables = MetaData()
CALLS = Table(
    "test_calls",
    _test_tables,
    Column("id", Integer, primary_key=True),
    Column("caller", String(32)),
    Column("callee", String(32)),
)
CONTACTS = Table(
    "test_contacts",
    _test_tables,
    Column("id", Integer, primary_key=True),
    Column("name", String(128)),
    Column("phone", String(32)),
)


@pytest.fixture
def sensitive_config(tmp_path):
    return make_config(
        tmp_path,
        asterisk={
            "host": "pbx.office.local",
            "username": "amiuser",
            "secret": SECRETS[0],
        },
        onec={
            "odata_url": "http://1c.local/base/odata/standard.odata/",
            "username": "Petrov",
            "password": SECRETS[1],
        },
        vpbx={"client_id": "client-4957771122", "sign_key": SECRETS[2]},
        ivr={"default_destination": "201", "emergency_destination": "84957771122"},
    )


async def fill(db: Database) -> None:
    async with db.engine.begin() as conn:
        await conn.run_sync(_test_tables.create_all)
        await conn.execute(
            insert(CALLS),
            [{"caller": NUMBERS[i % 4], "callee": "201"} for i in range(5)],
        )
        await conn.execute(
            insert(CONTACTS),
            [{"name": name, "phone": NUMBERS[0]} for name in NAMES],
        )


async def test_payload_has_the_figures_and_nothing_personal(db, sensitive_config):
    await fill(db)
    payload = await build_payload(sensitive_config, db, enabled_jobs=["metrics"])
    text = json.dumps(payload, ensure_ascii=False)
    for value in [
        *NUMBERS,
        *NAMES,
        *SECRETS,
        "pbx.office.local",
        "1c.local",
        "amiuser",
        "client-",
    ]:
        assert value not in text, value
    assert not re.search(r"\d{5,}", text), "something number-like leaked"
    assert payload["usage"]["rows"]["test_calls"] == 5
    assert payload["usage"]["rows"]["test_contacts"] == 3
    assert payload["usage"]["rows"]["job_settings"] == 0
    assert payload["pbx"] == {"kind": "asterisk+rostelecom-vpbx", "version": "unknown"}
    assert payload["onec"] == {"configuration": "unknown", "version": "unknown"}
    assert payload["product"]["name"] == "telebridge"
    assert payload["dialplan"]["ivr_default_destination_set"] is True


async def test_with_no_endpoint_the_payload_is_only_recorded(sqlite_db, config):
    body = metrics_body(config, sqlite_db, lambda: ["metrics"])
    report = await body(JobContext("metrics", T0))
    assert report.outcome == "ok"
    assert report.counters == {"sent": 0}
    recorded = json.loads(report.message.removeprefix("recorded only: "))
    assert recorded == await build_payload(config, sqlite_db, enabled_jobs=["metrics"])


class FakeCollector:
    """Stands in for the developers' metrics endpoint: scripted statuses."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = list(statuses)
        self.received: list[Any] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append(await request.json())
        return web.Response(status=self.statuses.pop(0) if self.statuses else 200)


@pytest.fixture
async def collector(aiohttp_server):
    async def start(statuses):
        fake = FakeCollector(statuses)
        app = web.Application()
        app.router.add_post("/collect", fake.handle)
        server = await aiohttp_server(app)
        return fake, str(server.make_url("/collect"))

    return start


async def test_delivery_retries_until_accepted(collector, sqlite_db, tmp_path):
    fake, url = await collector([503, 429, 200])
    config = make_config(tmp_path, metrics={"endpoint": url, "attempts": 3})
    body = metrics_body(config, sqlite_db, list, backoff_seconds=0)
    report = await body(JobContext("metrics", T0))
    assert report.outcome == "ok"
    assert report.counters == {"sent": 1, "attempts": 3}
    assert len(fake.received) == 3
    assert fake.received[-1]["product"]["name"] == "telebridge"


async def test_delivery_gives_up_after_the_attempts(collector, sqlite_db, tmp_path):
    fake, url = await collector([500, 500, 500, 500])
    config = make_config(tmp_path, metrics={"endpoint": url, "attempts": 2})
    body = metrics_body(config, sqlite_db, list, backoff_seconds=0)
    report = await body(JobContext("metrics", T0))
    assert report.outcome == "failed"
    assert report.counters == {"sent": 0, "attempts": 2}
    assert "HTTP 500" in report.message
    assert len(fake.received) == 2


async def test_a_client_error_is_not_retried(collector):
    fake, url = await collector([400])
    with pytest.raises(SendFailed, match="HTTP 400"):
        await send(url, {"a": 1}, attempts=5, timeout_seconds=5, backoff_seconds=0)
    assert len(fake.received) == 1


async def test_an_unreachable_endpoint_fails_cleanly(unused_tcp_port):
    with pytest.raises(SendFailed):
        await send(
            f"http://127.0.0.1:{unused_tcp_port}/x",
            {},
            attempts=2,
            timeout_seconds=5,
            backoff_seconds=0,
        )


async def test_preview_shows_the_exact_payload(service):
    import aiohttp

    async with (
        aiohttp.ClientSession(service.url, headers=service.admin_headers) as s,
        s.get("/api/v1/jobs/metrics/preview") as response,
    ):
        assert response.status == 200
        preview = await response.json()
    expected = await build_payload(
        service.core.config,
        service.core.db,
        enabled_jobs=[
            "cdr_loader",
            "contact_refresh",
            "contact_refresh_operative",
            "routing_table",
            "events_exchange",
            "contacts_exchange",
            "metrics",
        ],
    )
    # Runs may be recorded meanwhile (window edges at start): compare the rest.
    for payload in (preview, expected):
        payload["usage"]["rows"].pop("job_runs")
    assert preview == expected
