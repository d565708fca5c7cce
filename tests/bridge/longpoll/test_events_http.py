"""The events channel over real HTTP: consumers, polls, publishing, windows, bad input.

Every answer is also checked against the OpenAPI document the service serves.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import jsonschema  # type: ignore[import-untyped]
import pytest
from aiohttp.test_utils import TestServer

from bridge.app import build_app
from bridge.core import Core
from bridge.longpoll.events_api import WINDOWS
from bridge.longpoll.hub import EventHub
from tests.conftest import RunningService

CALL = {
    "call_id": "leg-1",
    "linkedid": "call-1",
    "time": "2026-01-05T09:00:00Z",
    "state": "Calling",
    "kind": "ringing",
    "direction": "incoming",
    "from": {"number": "+74951234567"},
    "to": {"number": "101", "extension": "101"},
}


class Api:
    """A client that checks every JSON answer against the served OpenAPI document."""

    def __init__(self, service: RunningService, session: aiohttp.ClientSession) -> None:
        self.service = service
        self.session = session
        self.doc: dict[str, Any] = {}

    async def load_doc(self) -> None:
        async with self.session.get(self.service.url + "/api/v1/openapi.json") as r:
            self.doc = await r.json()

    async def call(
        self,
        method: str,
        path: str,
        *,
        spec_path: str | None = None,
        token: str | None = None,
        admin: bool = False,
        **kwargs: Any,
    ) -> tuple[int, Any, aiohttp.ClientResponse]:
        headers = dict(kwargs.pop("headers", {}))
        if admin:
            headers.update(self.service.admin_headers)
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        async with self.session.request(
            method, self.service.url + path, headers=headers, **kwargs
        ) as resp:
            text = await resp.text()
            body = json.loads(text) if text else None
        self._check(method, spec_path or path.split("?")[0], resp.status, body)
        return resp.status, body, resp

    def _check(self, method: str, path: str, status: int, body: Any) -> None:
        op = self.doc["paths"][path][method.lower()]
        declared = op["responses"].get(str(status))
        assert declared is not None, f"{method} {path} answered undeclared {status}"
        if body is None:
            return
        schema = declared["content"]["application/json"]["schema"]
        resolver = {"components": self.doc["components"], **schema}
        jsonschema.validate(body, resolver)


@pytest.fixture
async def api(service: RunningService) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as session:
        client = Api(service, session)
        await client.load_doc()
        yield client


async def add(api: Api, name: str, kind: str = "onec", extension: str = "") -> str:
    status, body, _ = await api.call(
        "POST",
        "/api/v1/consumers",
        admin=True,
        json={"name": name, "kind": kind, "extension": extension},
    )
    assert status == 201, body
    return str(body["token"])


async def poll(api: Api, token: str, query: str = "") -> tuple[int, Any]:
    """A poll that answers at once unless the query asks to wait."""
    if "wait=" not in query:
        query = f"{query}&wait=0" if query else "wait=0"
    status, body, _ = await api.call("GET", f"/api/v1/events?{query}", token=token)
    return status, body


async def publish(api: Api, body: dict[str, Any]) -> tuple[int, Any]:
    status, answer, _ = await api.call("POST", "/api/v1/events", admin=True, json=body)
    return status, answer


async def test_poll_publish_and_resume_from_the_cursor(api: Api) -> None:
    token = await add(api, "base1")
    status, first = await poll(api, token)
    assert status == 200
    assert first["events"] == []
    cursor = first["cursor"]
    status, published = await publish(api, {"topic": "call", "data": CALL})
    assert status == 201
    status, batch = await poll(api, token, f"cursor={cursor}&wait=5")
    assert [e["id"] for e in batch["events"]] == [published["id"]]
    event = batch["events"][0]
    assert event["topic"] == "call"
    assert event["data"]["from"]["number"] == "+74951234567"
    assert batch["cursor"] == published["id"]
    status, again = await poll(api, token, f"cursor={batch['cursor']}")
    assert again["events"] == []


def hub_of(service: RunningService) -> EventHub:
    hub = service.core.events
    assert isinstance(hub, EventHub)
    return hub


async def test_a_parked_poll_answers_when_an_event_arrives(
    api: Api, service: RunningService
) -> None:
    token = await add(api, "base1")
    _, first = await poll(api, token)
    parked = asyncio.create_task(poll(api, token, f"cursor={first['cursor']}&wait=30"))
    async with asyncio.timeout(10):
        await hub_of(service).until_parked(1)
        await publish(api, {"topic": "x.test", "data": {"n": 7}})
        status, batch = await parked
    assert status == 200
    assert [e["data"] for e in batch["events"]] == [{"n": 7}]


async def test_panels_get_only_their_extension(api: Api) -> None:
    base = await add(api, "base1")
    panel = await add(api, "panel-102", "panel", "102")
    _, b0 = await poll(api, base)
    _, p0 = await poll(api, panel)
    other = {**CALL, "to": {"number": "103", "extension": "103"}}
    mine = {**CALL, "to": {"number": "102", "extension": "102"}}
    await publish(api, {"topic": "call", "data": other})
    await publish(api, {"topic": "call", "data": mine})
    await publish(api, {"topic": "history.updated", "data": {}, "extensions": ["102"]})
    _, b = await poll(api, base, f"cursor={b0['cursor']}")
    _, p = await poll(api, panel, f"cursor={p0['cursor']}")
    assert len(b["events"]) == 3
    assert [e["data"].get("to", {}).get("extension") for e in p["events"]] == [
        "102",
        None,
    ]


async def test_a_poll_without_cursor_resumes_from_the_last_acknowledged(
    api: Api,
) -> None:
    token = await add(api, "base1")
    _, first = await poll(api, token)
    _, pub = await publish(api, {"topic": "x.a", "data": {"n": 1}})
    await poll(api, token, f"cursor={first['cursor']}")  # acks the start
    _, again = await poll(api, token)  # no cursor: from the stored ack
    assert [e["id"] for e in again["events"]] == [pub["id"]]


async def test_limit_batches_and_lag_is_listed(api: Api) -> None:
    token = await add(api, "base1")
    _, first = await poll(api, token)
    for n in range(5):
        await publish(api, {"topic": "x.a", "data": {"n": n}})
    _, b1 = await poll(api, token, f"cursor={first['cursor']}&limit=2")
    assert [e["data"]["n"] for e in b1["events"]] == [0, 1]
    _, b2 = await poll(api, token, f"cursor={b1['cursor']}&limit=2")
    assert [e["data"]["n"] for e in b2["events"]] == [2, 3]
    status, listed, _ = await api.call("GET", "/api/v1/consumers", admin=True)
    assert status == 200
    (entry,) = listed["consumers"]
    assert entry["name"] == "base1"
    assert entry["cursor"] == b1["cursor"]  # the ack is the cursor it sent
    assert entry["lag"] == 3
    assert entry["last_poll_at"] is not None
    assert "token" not in entry


async def test_revoked_and_unknown_tokens_are_refused(api: Api) -> None:
    token = await add(api, "base1")
    status, _ = await poll(api, token)
    assert status == 200
    status, _, _ = await api.call(
        "DELETE",
        "/api/v1/consumers/base1",
        spec_path="/api/v1/consumers/{name}",
        admin=True,
    )
    assert status == 204
    status, body = await poll(api, token)
    assert (status, body["error"]["id"]) == (401, "unauthorized")
    status, body = await poll(api, "not-a-token")
    assert (status, body["error"]["id"]) == (401, "unauthorized")
    status, body, _ = await api.call("GET", "/api/v1/events")
    assert status == 401
    status, body, _ = await api.call(
        "DELETE",
        "/api/v1/consumers/base1",
        spec_path="/api/v1/consumers/{name}",
        admin=True,
    )
    assert (status, body["error"]["id"]) == (404, "unknown-consumer")


async def test_closed_channel_answers_503_and_keeps_events(
    api: Api, service: RunningService
) -> None:
    token = await add(api, "base1")
    _, first = await poll(api, token)
    parked = asyncio.create_task(poll(api, token, f"cursor={first['cursor']}&wait=30"))
    await hub_of(service).until_parked(1)
    status, state, _ = await api.call(
        "POST",
        "/api/v1/channels/events/close",
        spec_path="/api/v1/channels/{channel}/close",
        admin=True,
        json={"reason": "1C update"},
    )
    assert status == 200
    assert state == {
        "channel": "events",
        "open": False,
        "reason": "1C update",
        "manual": True,
    }
    async with asyncio.timeout(10):
        status, body = await parked  # the parked poll is told at once
    assert status == 503
    assert body["error"]["id"] == "channel-closed"
    assert body["error"]["details"]["reason"] == "1C update"
    status, published = await publish(api, {"topic": "x.a", "data": {"n": 1}})
    assert status == 201  # events keep accumulating
    status, _, resp = await api.call(
        "GET", f"/api/v1/events?cursor={first['cursor']}", token=token
    )
    assert status == 503
    assert resp.headers["Retry-After"] == "60"
    status, _, _ = await api.call(
        "POST",
        "/api/v1/channels/events/open",
        spec_path="/api/v1/channels/{channel}/open",
        admin=True,
    )
    assert status == 200
    _, batch = await poll(api, token, f"cursor={first['cursor']}")
    assert [e["id"] for e in batch["events"]] == [published["id"]]


async def test_schedule_policy_closes_the_channel(core: Core) -> None:
    """The scheduler reaches the windows through the `WINDOWS` app key."""
    app = build_app(core)
    async with TestServer(app) as server, aiohttp.ClientSession() as session:
        admin = {"Authorization": f"Bearer {core.admin_token}"}
        async with session.post(
            server.make_url("/api/v1/consumers"),
            json={"name": "b", "kind": "onec"},
            headers=admin,
        ) as resp:
            token = (await resp.json())["token"]
        auth = {"Authorization": f"Bearer {token}"}
        app[WINDOWS].set_policy(
            "events", lambda now: f"outside 08:00-21:00 ({now:%H:%M})"
        )
        async with session.get(
            server.make_url("/api/v1/events?wait=0"), headers=auth
        ) as r:
            body = await r.json()
            assert r.status == 503
            assert body["error"]["id"] == "channel-closed"
            assert body["error"]["details"]["reason"] == "outside 08:00-21:00 (09:00)"
        app[WINDOWS].set_policy("events", lambda now: None)
        async with session.get(
            server.make_url("/api/v1/events?wait=0"), headers=auth
        ) as r:
            assert r.status == 200


async def test_channel_list_and_unknown_channel(api: Api) -> None:
    status, body, _ = await api.call("GET", "/api/v1/channels", admin=True)
    assert status == 200
    assert [c["channel"] for c in body["channels"]] == ["events", "contacts"]
    status, body, _ = await api.call(
        "POST",
        "/api/v1/channels/nope/close",
        spec_path="/api/v1/channels/{channel}/close",
        admin=True,
        json={},
    )
    assert (status, body["error"]["id"]) == (404, "unknown-channel")


@pytest.mark.parametrize(
    ("query", "error_id"),
    [
        ("cursor=garbage", "malformed-cursor"),
        ("cursor=ab.-1", "malformed-cursor"),
        ("wait=51", "invalid-field"),
        ("wait=x", "invalid-field"),
        ("limit=0", "invalid-field"),
    ],
)
async def test_bad_poll_parameters(api: Api, query: str, error_id: str) -> None:
    token = await add(api, "base1")
    status, body = await poll(api, token, query)
    assert (status, body["error"]["id"]) == (400, error_id)


@pytest.mark.parametrize(
    ("payload", "error_id", "field"),
    [
        (
            {"topic": "call", "data": {**CALL, "state": "Nope"}},
            "invalid-field",
            "data.state",
        ),
        (
            {"topic": "call", "data": {**CALL, "surprise": 1}},
            "invalid-field",
            "data.surprise",
        ),
        (
            {
                "topic": "call",
                "data": {k: v for k, v in CALL.items() if k != "call_id"},
            },
            "invalid-field",
            "data.call_id",
        ),
        ({"topic": "Bad Topic", "data": {}}, "invalid-field", "topic"),
        ({"topic": "x.a", "data": []}, "invalid-field", "data"),
        (
            {"topic": "x.a", "data": {}, "extensions": ["1 2"]},
            "invalid-field",
            "extensions",
        ),
        ({"topic": "x.a", "data": {}, "extra": 1}, "invalid-field", "extra"),
        (
            {"topic": "call", "data": CALL, "extensions": ["101"]},
            "invalid-field",
            "extensions",
        ),
    ],
)
async def test_bad_published_events_are_refused_and_not_stored(
    api: Api,
    service: RunningService,
    payload: dict[str, Any],
    error_id: str,
    field: str,
) -> None:
    head = hub_of(service).bounds.head
    status, body = await publish(api, payload)
    assert status == 400
    assert body["error"]["id"] == error_id
    assert body["error"]["details"]["field"] == field
    assert hub_of(service).bounds.head == head


async def test_malformed_oversized_and_unauthenticated_publishes(
    api: Api, service: RunningService
) -> None:
    head = hub_of(service).bounds.head
    status, body, _ = await api.call(
        "POST",
        "/api/v1/events",
        admin=True,
        data=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    assert (status, body["error"]["id"]) == (400, "invalid-json")
    big = {"topic": "x.a", "data": {"blob": "x" * 70_000}}
    status, body = await publish(api, big)
    assert (status, body["error"]["id"]) == (413, "body-too-large")
    status, body, _ = await api.call(
        "POST", "/api/v1/events", json={"topic": "x.a", "data": {}}
    )
    assert (status, body["error"]["id"]) == (401, "unauthorized")
    status, body, _ = await api.call(
        "POST", "/api/v1/events", token="wrong", json={"topic": "x.a", "data": {}}
    )
    assert status == 401
    assert hub_of(service).bounds.head == head
    status, _ = await publish(api, {"topic": "x.a", "data": {}})
    assert status == 201  # and the service keeps serving


@pytest.mark.parametrize(
    ("payload", "status", "error_id"),
    [
        ({"name": "p", "kind": "panel"}, 400, "invalid-field"),
        ({"name": "b", "kind": "onec", "extension": "101"}, 400, "invalid-field"),
        ({"name": "bad name!", "kind": "onec"}, 400, "invalid-field"),
        ({"name": "b", "kind": "robot"}, 400, "invalid-field"),
        ({"name": "b", "kind": "onec", "token": "x"}, 400, "invalid-field"),
        ({"kind": "onec"}, 400, "invalid-field"),
    ],
)
async def test_bad_consumer_requests(
    api: Api, payload: dict[str, Any], status: int, error_id: str
) -> None:
    got, body, _ = await api.call("POST", "/api/v1/consumers", admin=True, json=payload)
    assert (got, body["error"]["id"]) == (status, error_id)
    _, listed, _ = await api.call("GET", "/api/v1/consumers", admin=True)
    assert listed["consumers"] == []


async def test_duplicate_consumer_and_admin_only(api: Api) -> None:
    await add(api, "base1")
    status, body, _ = await api.call(
        "POST", "/api/v1/consumers", admin=True, json={"name": "base1", "kind": "onec"}
    )
    assert (status, body["error"]["id"]) == (409, "consumer-exists")
    status, body, _ = await api.call("GET", "/api/v1/consumers", token="nope")
    assert status == 401


async def test_health_reports_channels(api: Api, service: RunningService) -> None:
    async with api.session.get(service.url + "/healthz") as resp:
        body = await resp.json()
    channels = body["components"]["channels"]
    assert channels["state"] == "ok"
    assert channels["data"]["windows"]["events"] == {"open": True, "reason": ""}
    assert channels["data"]["epoch"] == hub_of(service).bounds.epoch


async def test_a_cursor_from_another_epoch_gets_an_explicit_reset(
    api: Api, service: RunningService
) -> None:
    token = await add(api, "base1")
    _, published = await publish(api, {"topic": "x.a", "data": {}})
    status, batch = await poll(api, token, "cursor=0123abcd.7")
    assert status == 200
    assert batch["events"] == []
    assert batch["reset"] == {
        "reason": "epoch",
        "lost_after": None,
        "lost_through": None,
        "resume": published["id"],
    }
    assert batch["cursor"] == published["id"]
    async with api.session.get(service.url + "/metrics") as resp:
        text = await resp.text()
    assert 'telebridge_events_resets_total{reason="epoch"} 1.0' in text


async def test_database_down_is_503_and_publishing_recovers(
    api: Api, service: RunningService
) -> None:
    engine = service.core.db.engine
    async with engine.begin() as conn:
        await conn.exec_driver_sql("ALTER TABLE event_log RENAME TO event_log_away")
    status, body = await publish(api, {"topic": "x.a", "data": {}})
    assert (status, body["error"]["id"]) == (503, "event-log-unavailable")
    async with api.session.get(service.url + "/healthz") as resp:
        health = await resp.json()
    assert health["components"]["channels"]["state"] == "down"
    async with engine.begin() as conn:
        await conn.exec_driver_sql("ALTER TABLE event_log_away RENAME TO event_log")
    async with api.session.get(service.url + "/healthz") as resp:
        health = await resp.json()
    assert health["components"]["channels"]["state"] == "ok"  # recovered by itself
    status, _ = await publish(api, {"topic": "x.a", "data": {}})
    assert status == 201
