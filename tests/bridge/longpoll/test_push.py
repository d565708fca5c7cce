"""Web-service mode against a fake 1C `miko_crm_api` (see tests/fakes/miko_crm.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Self

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from prometheus_client import CollectorRegistry

from bridge.app import build_app
from bridge.call_events import CallEvent, CallKind, CallState, Direction, Party
from bridge.clock import FakeClock
from bridge.config import Config
from bridge.core import open_core
from bridge.longpoll.config import EventsConfig
from bridge.longpoll.event_log import EventLog
from bridge.longpoll.events_feature import PUSH_ROLE, PUSHER, make_setup
from bridge.longpoll.hub import EventHub
from bridge.longpoll.push import (
    Backoff,
    PushCursorStore,
    PushState,
    WebServicePusher,
)
from bridge.onec.errors import OneCAuthError, OneCUnavailable, SoapFault
from bridge.onec.web_service import CALL_EVENT_SUBJECT, OneCUser
from bridge.storage import migrate
from bridge.storage.database import Database
from jobs.leader import leader_lock
from tests.conftest import make_config
from tests.fakes.miko_crm import FakeMikoCrm


class Sleeps:
    """Backoff delays asked for, recorded instead of slept."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        await asyncio.sleep(0)


@pytest.fixture
async def hub(db: Database) -> AsyncIterator[EventHub]:
    h = EventHub(EventLog(db), EventsConfig(), FakeClock(), CollectorRegistry())
    await h.start()
    try:
        yield h
    finally:
        await h.stop()


def call(n: int, extension: str = "101") -> CallEvent:
    return CallEvent(
        call_id=f"leg-{n}",
        linkedid=f"call-{n}",
        time=datetime(2026, 1, 5, 9, 0, tzinfo=UTC),
        state=CallState.CALLING,
        kind=CallKind.RINGING,
        direction=Direction.INCOMING,
        **{"from": Party(number="+74951234567")},
        to=Party(number=extension, extension=extension),
    )


class Running:
    """A pusher task, parked on the hub, stopped (cancelled) on exit."""

    def __init__(self, pusher: WebServicePusher, hub: EventHub) -> None:
        self.pusher = pusher
        self.hub = hub

    async def __aenter__(self) -> Self:
        self.task = asyncio.create_task(self.pusher.run())
        async with asyncio.timeout(10):
            await self.hub.until_parked(1)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


async def received(crm: FakeMikoCrm, count: int) -> None:
    async with asyncio.timeout(10):
        await crm.until_received(count)


def pusher_for(
    hub: EventHub, crm: FakeMikoCrm, db: Database, sleeps: Sleeps | None = None
) -> WebServicePusher:
    return WebServicePusher(
        hub, crm, PushCursorStore(db), sleep=sleeps or Sleeps(), poll_wait=30
    )


async def test_pushes_call_events_in_order_with_the_1c_user(
    hub: EventHub, db: Database
) -> None:
    crm = FakeMikoCrm([OneCUser("user-ref-7", "Иванова", "101")])
    async with Running(pusher_for(hub, crm, db), hub):
        ids = [await hub.publish_call(call(n)) for n in range(3)]
        await hub.publish("history.updated", {})  # not a call: not pushed
        await received(crm, 3)
    assert [s for s, _ in crm.received] == [CALL_EVENT_SUBJECT] * 3
    assert [d["id"] for _, d in crm.received] == ids
    assert [d["call_id"] for _, d in crm.received] == ["leg-0", "leg-1", "leg-2"]
    assert all(d["user_id"] == "user-ref-7" for _, d in crm.received)


async def test_resumes_from_its_cursor_after_a_restart(
    hub: EventHub, db: Database
) -> None:
    crm = FakeMikoCrm()
    async with Running(pusher_for(hub, crm, db), hub):
        for n in range(2):
            await hub.publish_call(call(n))
        await received(crm, 2)
    for n in range(2, 4):  # published while no pusher runs (1C mode restarting)
        await hub.publish_call(call(n))
    async with Running(pusher_for(hub, crm, db), hub):
        async with asyncio.timeout(10):
            await crm.until_received_call("leg-3")
    # At-least-once: the event in flight when the pusher stopped may come again
    # (1C dedups by id); nothing is lost and the order holds.
    legs = [d["call_id"] for _, d in crm.received]
    assert list(dict.fromkeys(legs)) == [f"leg-{n}" for n in range(4)]
    assert len(legs) - 4 <= 1


async def test_1c_down_is_retried_with_backoff_and_nothing_is_lost(
    hub: EventHub, db: Database
) -> None:
    crm = FakeMikoCrm()
    crm.failures = [OneCUnavailable("connection refused")] * 4
    sleeps = Sleeps()
    pusher = pusher_for(hub, crm, db, sleeps)
    async with Running(pusher, hub):
        for n in range(3):
            await hub.publish_call(call(n))
        await received(crm, 3)
    assert sleeps.delays == [1.0, 2.0, 4.0, 8.0]
    assert [d["call_id"] for _, d in crm.received] == ["leg-0", "leg-1", "leg-2"]
    assert pusher.state is PushState.PUSHING


async def test_backoff_is_capped() -> None:
    backoff = Backoff(first_seconds=1, max_seconds=60)
    assert backoff.next(128) == 60


async def test_a_refused_event_is_skipped_after_a_few_tries(
    hub: EventHub, db: Database
) -> None:
    crm = FakeMikoCrm()
    crm.failures = [SoapFault("bad data")] * 5
    pusher = pusher_for(hub, crm, db)
    async with Running(pusher, hub):
        await hub.publish_call(call(0))
        await hub.publish_call(call(1))
        await received(crm, 1)
    assert [d["call_id"] for _, d in crm.received] == ["leg-1"]
    assert pusher.skipped == 1


async def test_auth_failure_stops_the_pusher(hub: EventHub, db: Database) -> None:
    crm = FakeMikoCrm()
    crm.failures = [OneCAuthError("401")]
    pusher = pusher_for(hub, crm, db)
    async with Running(pusher, hub) as running:
        await hub.publish_call(call(0))
        async with asyncio.timeout(10):
            await running.task  # returns: retrying cannot fix credentials
    assert pusher.state is PushState.AUTH_FAILED
    assert crm.received == []


async def test_health_shows_the_pusher(tmp_path: object) -> None:
    config: Config = make_config(
        tmp_path,  # type: ignore[arg-type]
        http={"host": "127.0.0.1", "port": 0, "events": {"push_to_onec": True}},
        onec={"soap_url": "http://1c.test/ws/miko_crm_api.1cws", "username": "u"},
    )
    crm = FakeMikoCrm()
    crm.failures = [OneCAuthError("401 from 1C")]
    async with open_core(config) as core:
        await migrate.upgrade(core.db)
        app = build_app(core, (make_setup(lambda _config: crm),))
        async with TestServer(app) as server, aiohttp.ClientSession() as session:
            hub = core.events
            assert isinstance(hub, EventHub)
            async with asyncio.timeout(10):
                await hub.until_parked(1)
                await hub.publish_call(call(0))
                await app[PUSHER].stopped.wait()
            async with session.get(server.make_url("/healthz")) as resp:
                body = await resp.json()
    channels = body["components"]["channels"]
    assert channels["state"] == "down"
    assert channels["data"]["push"]["state"] == "auth_failed"
    assert body["ready"] is False
    assert crm.closed  # the service closed its 1C client on the way out


async def test_one_instance_pushes_and_another_takes_over(
    hub: EventHub, db: Database, tmp_path: Path
) -> None:
    """Two instances in web-service mode on one database: 1C gets each event from
    one of them; when that one stops, the other resumes from the shared cursor."""
    crm = FakeMikoCrm()
    first, second = pusher_for(hub, crm, db), pusher_for(hub, crm, db)
    leads = [
        asyncio.create_task(p.lead(leader_lock(db, tmp_path, PUSH_ROLE), every=0.05))
        for p in (first, second)
    ]
    try:
        async with asyncio.timeout(10):
            await hub.until_parked(1)
        leader, standby = (first, 0), (second, 1)
        if first.state is PushState.STANDBY:
            leader, standby = standby, leader
        assert standby[0].state is PushState.STANDBY
        for n in range(3):
            await hub.publish_call(call(n))
        await received(crm, 3)
        leads[leader[1]].cancel()  # the pushing instance goes away
        await asyncio.gather(leads[leader[1]], return_exceptions=True)
        for n in range(3, 6):
            await hub.publish_call(call(n))
        async with asyncio.timeout(10):
            await crm.until_received_call("leg-5")
    finally:
        for task in leads:
            task.cancel()
        await asyncio.gather(*leads, return_exceptions=True)
    legs = [d["call_id"] for _, d in crm.received]
    assert legs[:3] == ["leg-0", "leg-1", "leg-2"]  # nothing twice while both ran
    # At-least-once across the failover: the last event pushed may come again.
    assert list(dict.fromkeys(legs)) == [f"leg-{n}" for n in range(6)]
    assert len(legs) - 6 <= 1
    assert standby[0].pushed >= 3
