"""A closed contact-channel window: polls get 503 with a reason, askers the fallback
at once (no waiting for a 1C that is not supposed to come), health says why."""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import partial

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from bridge.app import build_app
from bridge.core import Core
from bridge.longpoll import contact_feature
from tests.fakes.consumers import FakeConsumers


class Windows:
    """Stands in for part A's ChannelWindows: closes one channel by hand."""

    def __init__(self) -> None:
        self.closed: dict[str, str] = {}

    def is_open(self, channel: str) -> str | None:
        return self.closed.get(channel)


@pytest.fixture
async def servers(core: Core) -> AsyncIterator[tuple[str, str, Windows, str]]:
    windows = Windows()
    app = build_app(core, features=(partial(contact_feature.setup, gate=windows),))
    registry = FakeConsumers()
    core.consumers = registry
    token = registry.add("base1")
    async with TestServer(app) as main, TestServer(core.crmd_app) as crmd:
        yield str(main.make_url("")), str(crmd.make_url("")), windows, token


async def test_closed_window(servers):
    main, crmd, windows, token = servers
    windows.closed["contacts"] = "infobase update until 06:00"
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{main}/api/v1/contacts/requests", headers=headers) as r:
            body = await r.json()
            assert r.status == 503
            assert r.headers["Retry-After"] == "30"
        assert body["error"]["id"] == "channel-closed"
        assert body["error"]["details"] == {
            "channel": "contacts",
            "reason": "infobase update until 06:00",
        }
        async with http.get(
            f"{crmd}/getcallerid", params={"number": "+79161234567"}
        ) as r:
            assert await r.json() == {
                "result": "Error",
                "cause": "contact channel is closed: infobase update until 06:00",
            }
        async with http.get(f"{main}/healthz") as r:
            component = (await r.json())["components"]["contact_channel"]
        assert component["state"] == "degraded"
        assert "infobase update" in component["detail"]
        windows.closed.clear()
        async with http.get(
            f"{main}/api/v1/contacts/requests", params={"wait": 0}, headers=headers
        ) as r:
            assert (r.status, await r.json()) == (200, {"requests": []})
