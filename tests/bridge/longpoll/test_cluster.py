"""Two instances on one log, woken through the machine's real Redis (127.0.0.1:6379)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client import CollectorRegistry

from bridge.clock import FakeClock
from bridge.longpoll.cluster import RedisWakeups
from bridge.longpoll.config import EventsConfig
from bridge.longpoll.event_log import EventLog
from bridge.longpoll.hub import EventHub
from bridge.service import running
from bridge.storage.database import Database
from tests.conftest import ADMIN_TOKEN, PG_URL, PgSchema, make_config

REDIS_URL = "redis://127.0.0.1:6379/0"


def hub(db: Database, clock: FakeClock) -> EventHub:
    return EventHub(
        EventLog(db), EventsConfig(), clock, CollectorRegistry(), shared=True
    )


async def test_an_event_published_on_one_instance_wakes_polls_on_another(
    db: Database, clock: FakeClock
) -> None:
    a, b = hub(db, clock), hub(db, clock)
    await a.start()
    await b.start()
    wa, wb = RedisWakeups(REDIS_URL, a), RedisWakeups(REDIS_URL, b)
    a.on_commit.append(wa.announce)
    b.on_commit.append(wb.announce)
    listeners = [asyncio.create_task(w.listen()) for w in (wa, wb)]
    try:
        async with asyncio.timeout(10):
            await wa.subscribed.wait()
            await wb.subscribed.wait()
            start = b.bounds.head_cursor
            parked = asyncio.create_task(
                b.poll(start, extension=None, wait=30, limit=5)
            )
            await b.until_parked(1)
            event_id = await a.publish("t", {"n": 1})
            answer = await parked  # no periodic catch-up runs here: Redis woke it
        assert [json.loads(e.json)["id"] for e in answer.events] == [event_id]
    finally:
        for task in listeners:
            task.cancel()
        await asyncio.gather(*listeners, return_exceptions=True)
        await wa.close()
        await wb.close()
        await a.stop()
        await b.stop()


async def test_redis_down_is_reported_not_fatal(db: Database, clock: FakeClock) -> None:
    a = hub(db, clock)
    await a.start()
    wakeups = RedisWakeups("redis://127.0.0.1:1/0", a)  # nothing listens there
    a.on_commit.append(wakeups.announce)
    try:
        listener = asyncio.create_task(wakeups.listen())
        event_id = await a.publish("t", {"n": 1})  # publishing does not depend on it
        async with asyncio.timeout(10):
            await wakeups.failed.wait()
        assert wakeups.connected is False
        assert event_id
        listener.cancel()
        await asyncio.gather(listener, return_exceptions=True)
    finally:
        await wakeups.close()
        await a.stop()


async def test_the_service_runs_with_redis_wakeups(tmp_path: Path) -> None:
    config = make_config(tmp_path, cluster={"redis_url": REDIS_URL})
    async with running(config) as (core, where), aiohttp.ClientSession() as session:
        url = "http://{}:{}".format(*where.http)
        admin = {"Authorization": f"Bearer {core.admin_token}"}
        async with session.post(
            url + "/api/v1/events", json={"topic": "x.a", "data": {}}, headers=admin
        ) as resp:
            assert resp.status == 201
        async with session.get(url + "/healthz") as resp:
            channels = (await resp.json())["components"]["channels"]
    assert "redis_wakeups" in channels["data"]


@pytest.mark.postgres
async def test_two_services_on_one_postgresql_share_the_channel(
    tmp_path: Path, pg_schema: PgSchema
) -> None:
    """Two whole services on one PostgreSQL, no Redis: a consumer added on one polls
    the other, and an event published on the first reaches a poll parked on the
    second (by the periodic catch-up)."""
    url = f"{PG_URL}?options=-csearch_path%3D{pg_schema.name}"
    config_a = make_config(tmp_path / "a", storage={"url": url})
    config_b = make_config(tmp_path / "b", storage={"url": url})
    async with (
        running(config_a) as (_core_a, at_a),
        running(config_b) as (_core_b, at_b),
        aiohttp.ClientSession() as session,
    ):
        a, b = "http://{}:{}".format(*at_a.http), "http://{}:{}".format(*at_b.http)
        admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        async with session.post(
            a + "/api/v1/consumers",
            json={"name": "base", "kind": "onec"},
            headers=admin,
        ) as resp:
            token = (await resp.json())["token"]
        auth = {"Authorization": f"Bearer {token}"}
        async with session.get(b + "/api/v1/events?wait=0", headers=auth) as resp:
            assert resp.status == 200
            cursor = (await resp.json())["cursor"]
        parked = asyncio.create_task(
            _get_json(session, f"{b}/api/v1/events?wait=30&cursor={cursor}", auth)
        )
        async with session.post(
            a + "/api/v1/events", json={"topic": "x.a", "data": {"n": 1}}, headers=admin
        ) as resp:
            event_id = (await resp.json())["id"]
        async with asyncio.timeout(10):
            batch = await parked
    assert [e["id"] for e in batch["events"]] == [event_id]


async def _get_json(
    session: aiohttp.ClientSession, url: str, headers: dict[str, str]
) -> Any:
    async with session.get(url, headers=headers) as resp:
        assert resp.status == 200
        return await resp.json()
