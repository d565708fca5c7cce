"""Click-to-call over real HTTP, through the adapter, to the fake AMI server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bridge.app import build_app
from bridge.core import Core, open_core
from bridge.longpoll.consumer_auth import Consumer, ConsumerKind
from bridge.storage import migrate
from pbx.asterisk import feature
from pbx.asterisk.adapter import AsteriskAdapter
from tests.conftest import ADMIN_TOKEN, make_config
from tests.fakes.ami_server import FakeAmiServer
from tests.fakes.polling import until

URL = "/api/v1/calls/originate"
BODY = {"from_extension": "101", "to_number": "8 (916) 123-45-67"}


class FakeConsumers:
    """Two tokens: a 1C base and a telephony panel."""

    async def authenticate(self, token: str) -> Consumer | None:
        return {
            "onec-token": Consumer("base", ConsumerKind.ONEC),
            "panel-token": Consumer("p101", ConsumerKind.PANEL, "101"),
        }.get(token)

    async def issue_panel_token(self, extension: str, user_id: str) -> str:
        raise NotImplementedError


@dataclass
class Api:
    url: str
    core: Core
    ami: FakeAmiServer
    http: aiohttp.ClientSession

    async def post(self, body: Any, token: str | None = ADMIN_TOKEN) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with self.http.post(self.url + URL, json=body, headers=headers) as resp:
            return resp.status, await resp.json()


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Api]:
    ami = FakeAmiServer()
    await ami.start()
    config = make_config(
        tmp_path,
        asterisk={
            "host": "127.0.0.1",
            "port": ami.port,
            "username": "telebridge",
            "secret": "s3cret",
            "reconnect_min_seconds": 0.01,
            "originate_timeout_seconds": 0.5,
        },
    )
    async with open_core(config) as core:
        await migrate.upgrade(core.db)
        core.consumers = FakeConsumers()
        runner = web.AppRunner(build_app(core, (feature.setup,)))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        async with aiohttp.ClientSession() as http:
            yield Api(f"http://127.0.0.1:{port}", core, ami, http)
        await runner.cleanup()
    await ami.close()


async def connected(api: Api) -> None:
    async with asyncio.timeout(5):
        await api.ami.logged_in.wait()


async def test_originate_rings_the_employee_then_dials_the_client(api: Api) -> None:
    await connected(api)
    status, body = await api.post(BODY)
    assert status == 200
    assert body == {"outcome": "answered", "uniqueid": "1767614999.7", "detail": "4"}
    sent = [a for a in api.ami.actions if a.get("Action") == "Originate"][-1]
    assert sent.get("Channel") == "PJSIP/101"
    assert sent.get("Exten") == "89161234567"
    assert sent.get("Context") == "from-internal"
    assert sent.get("Async") == "true"


async def test_originate_reports_a_busy_employee(api: Api) -> None:
    await connected(api)
    api.ami.originate_reply = {"Response": "Failure", "Reason": "5"}
    status, body = await api.post(BODY, token="onec-token")
    assert (status, body["outcome"]) == (200, "busy")


async def test_originate_without_outcome_times_out_cleanly(api: Api) -> None:
    await connected(api)
    api.ami.originate_reply = None
    status, body = await api.post(BODY)
    assert (status, body["error"]["id"]) == (503, "pbx-timeout")


@pytest.mark.parametrize(
    ("token", "status", "error_id"),
    [
        (None, 401, "unauthorized"),
        ("nope", 401, "unauthorized"),
        ("panel-token", 403, "forbidden"),
    ],
)
async def test_originate_needs_admin_or_onec(api: Api, token, status, error_id) -> None:
    code, body = await api.post(BODY, token=token)
    assert (code, body["error"]["id"]) == (status, error_id)
    assert not [a for a in api.ami.actions if a.get("Action") == "Originate"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"from_extension": "10a", "to_number": "89161234567"}, "from_extension"),
        ({"from_extension": "101", "to_number": "call me"}, "to_number"),
        ({"from_extension": "101"}, "to_number"),
        ({**BODY, "extra": 1}, "extra"),
    ],
)
async def test_bad_body_is_400_naming_the_field(api: Api, body, field) -> None:
    code, reply = await api.post(body)
    assert code == 400
    assert reply["error"]["details"]["field"] == field


async def test_originate_while_ami_is_down_is_503(api: Api) -> None:
    await connected(api)
    await api.ami.close()
    adapter = api.core.pbx
    assert isinstance(adapter, AsteriskAdapter)

    async def down() -> bool:
        return not adapter.connected

    async with asyncio.timeout(5):
        await until(down)
    code, body = await api.post(BODY)
    assert (code, body["error"]["id"]) == (503, "pbx-unavailable")


async def test_originate_is_in_the_openapi_document(api: Api) -> None:
    async with api.http.get(api.url + "/api/v1/openapi.json") as resp:
        doc = await resp.json()
    assert "post" in doc["paths"][URL]


async def test_login_failure_shows_in_healthz_and_is_retried(api: Api) -> None:
    await connected(api)
    api.ami.secret = "rotated"
    api.ami.drop()

    async def refused_twice() -> bool:
        return api.ami.failed_logins >= 2

    async with asyncio.timeout(5):
        await until(refused_twice)
        async with api.http.get(api.url + "/healthz") as resp:
            health = await resp.json()
    pbx = health["components"]["pbx"]
    assert pbx == {"state": "down", "detail": "login failed: Authentication failed"}
