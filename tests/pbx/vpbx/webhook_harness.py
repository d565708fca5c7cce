"""The webhook app on a real port, and how the PBX side signs and posts.

The PBX is played by signing requests exactly as manual §10.6.3 describes; the
long-poll hub by a recording event sink; the contact index by a dict.
"""

from __future__ import annotations

import json
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from bridge.app import build_app
from bridge.call_events import CallEvent
from bridge.config import Config
from bridge.contacts import ContactMatch, ContactOwner
from bridge.core import Core, open_core
from bridge.storage import migrate
from pbx.vpbx.signature import sign
from tests.conftest import make_config

Client = TestClient[web.Request, web.Application]
CLIENT_ID = "1874BAB574D929ECDD7C2880185FBF69"
KEY = "259D87F014309CD190E91AC53C9C39E0"
OLD_KEY = "0123456789ABCDEF0123456789ABCDEF"
NEW_CALL = {
    "session_id": "SID-1",
    "state": "new",
    "type": "incoming",
    "timestamp": "2026-01-05 12:00:00.000",
    "from_number": "sip:79161234567@cloudpbx.rt.ru",
    "request_number": "74951234567",
}


class RecordingSink:
    """Stands in for the long-poll hub: keeps what adapters publish."""

    def __init__(self) -> None:
        self.calls: list[CallEvent] = []
        self.fail = False

    async def publish_call(self, event: CallEvent) -> str:
        if self.fail:
            raise RuntimeError("store is down")
        self.calls.append(event)
        return str(len(self.calls))

    async def publish(
        self,
        topic: str,
        data: dict[str, Any],
        *,
        extensions: frozenset[str] = frozenset(),
    ) -> str:
        raise AssertionError("the Rostelecom webhooks publish call events only")


class Directory:
    async def lookup(self, number: str) -> ContactMatch | None:
        if number != "+79161234567":
            return None
        owner = ContactOwner("ref-1", "Catalog_Контрагенты", "ООО Ромашка")
        return ContactMatch(number, (owner,))


def vpbx_config(tmp_path: Path, **vpbx: Any) -> Config:
    settings = {
        "client_id": CLIENT_ID,
        "sign_key": KEY,
        "previous_sign_key": OLD_KEY,
        "rotation_grace_seconds": 600,
        **vpbx,
    }
    return make_config(tmp_path, vpbx=settings)


@pytest.fixture
async def setup(tmp_path, clock, aiohttp_client):
    async with AsyncExitStack() as stack:

        async def start(**vpbx: Any) -> tuple[Client, Core, RecordingSink]:
            config = vpbx_config(tmp_path, **vpbx)
            core = await stack.enter_async_context(open_core(config, clock=clock))
            await migrate.upgrade(core.db)
            sink = RecordingSink()
            core.events = sink
            core.contacts = Directory()
            client = await aiohttp_client(build_app(core))
            return client, core, sink

        yield start


@pytest.fixture
async def pbx(setup):
    return await setup()


def signed(body: bytes, key: str = KEY, client_id: str = CLIENT_ID) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-Client-ID": client_id,
        "X-Client-Sign": sign(CLIENT_ID, body, key),
    }


async def post(client: Client, method: str, payload: Any, **sign_args: Any):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return await client.post(
        f"/vpbx/{method}", data=body, headers=signed(body, **sign_args)
    )


def metric(core: Core, name: str, labels: dict[str, str]) -> float:
    return core.metrics.get_sample_value(name, labels) or 0.0
