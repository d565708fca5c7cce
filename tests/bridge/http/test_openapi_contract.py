"""Real responses of the running service checked against /api/v1/openapi.json.

Every operation the document declares must be exercised by one of `EXERCISES`
(or be listed in `NOT_EXERCISED` with the reason); every answer seen, success or
error, must match the schema declared for its status. Features add an exercise
function here for their endpoints. Consumers come from tests/fakes/consumers.py
(a stand-in for the registry built on another branch); 1C is the fake in
tests/fakes/onec_contacts.py.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bridge.longpoll.broker import RequestKind
from bridge.longpoll.consumer_auth import ConsumerKind
from bridge.service import running
from pbx.vpbx.signature import sign
from tests.bridge.http.openapi_contract import Contract, ContractClient
from tests.conftest import ADMIN_TOKEN, RunningService, make_config
from tests.fakes.consumers import FakeConsumers
from tests.fakes.onec_contacts import running_onec


@dataclass
class Context:
    client: ContractClient
    service: RunningService
    consumers: FakeConsumers


Exercise = Callable[[Context], Awaitable[None]]
VPBX_CLIENT = "1874BAB574D929ECDD7C2880185FBF69"
VPBX_KEY = "259D87F014309CD190E91AC53C9C39E0"

# (METHOD, path) -> why no test can call it here. Keep this short.
NOT_EXERCISED: dict[tuple[str, str], str] = {}


# -- contact channel (bridge/longpoll) ----------------------------------------


async def onec_answers(kind: str, payload: dict[str, Any]) -> dict[str, Any] | None:
    if kind == "panel_auth":
        return {"data": {"authorized": payload["pin"] == "1234", "user_id": "u-1"}}
    if kind == "contact_card":
        return {"data": {"name": "Иванов"}}
    return None


async def exercise_contact_channel(ctx: Context) -> None:
    c = ctx.client
    requests, responses = "/api/v1/contacts/requests", "/api/v1/contacts/responses"
    token = ctx.consumers.add("contract-1c")
    panel = ctx.consumers.add("contract-panel", ConsumerKind.PANEL)
    # Errors first, while no 1C polls.
    assert (await c.call("GET", requests)).status == 401
    assert (await c.call("GET", requests, token=panel)).status == 403
    bad = await c.call("GET", requests, token=token, params={"wait": "x"})
    assert bad.status == 400
    assert (await c.call("POST", responses, token=token, raw_body=b"{")).status == 400
    unknown = await c.call(
        "POST", responses, token=token, json_body={"id": "x", "data": {}}
    )
    assert unknown.status == 404
    too_big = await c.call("POST", responses, token=token, raw_body=b" " * 70_000)
    assert too_big.status == 413
    auth = "/api/v1/panel/auth"
    assert (await c.call("POST", auth, json_body={"extension": "201"})).status == 400
    silent = await c.call("POST", auth, json_body={"extension": "201", "pin": "1234"})
    assert silent.status == 503
    card = "/api/v1/panel/contact-card"
    assert (await c.call("GET", card, params={"number": "+79161234567"})).status == 401
    assert (
        await c.call("GET", card, params={"number": "?"}, token=panel)
    ).status == 400
    # A real request/answer cycle: poll, answer, duplicate answer.
    channel = ctx.service.core.contact_channel
    assert channel is not None
    asking = asyncio.create_task(
        channel.ask(RequestKind.CALLER_ID, {"number": "1"}, 30)
    )
    polled = await c.call("GET", requests, token=token, params={"wait": "5"})
    assert polled.status == 200
    [request] = polled.body["requests"]
    body = {"id": request["id"], "data": {"caller_id": "Иванов"}}
    assert (await c.call("POST", responses, token=token, json_body=body)).status == 200
    assert (await c.call("POST", responses, token=token, json_body=body)).status == 409
    async with asyncio.timeout(5):
        await asking
    async with running_onec(ctx.service.url, token, onec_answers):
        ok = await c.call("POST", auth, json_body={"extension": "201", "pin": "1234"})
        assert ok.status == 200
        denied = await c.call(
            "POST", auth, json_body={"extension": "202", "pin": "0000"}
        )
        assert denied.status == 403
        for _ in range(4):
            await c.call("POST", auth, json_body={"extension": "202", "pin": "0000"})
        locked = await c.call(
            "POST", auth, json_body={"extension": "202", "pin": "0000"}
        )
        assert locked.status == 429
        found = await c.call(
            "GET", card, params={"number": "+79161234567"}, token=ok.body["token"]
        )
        assert found.status == 200


# -- smart IVR (smart_ivr) ------------------------------------------------------


async def exercise_ivr(ctx: Context) -> None:
    c, admin = ctx.client, ADMIN_TOKEN
    for path in ("/api/v1/ivr", "/api/v1/ivr/preview"):
        ok = await c.call("GET", path, params={"number": "+79161234567"}, token=admin)
        assert ok.status == 200
        assert (await c.call("GET", path, params={"number": "1"})).status == 401
        long = await c.call("GET", path, params={"number": "9" * 65}, token=admin)
        assert long.status == 400
    prompts = "/api/v1/ivr/prompts/{name}"
    gone = await c.call("GET", prompts, path_params={"name": "none.wav"})
    assert gone.status == 404
    said = await c.call(
        "POST", "/api/v1/tts/synthesize", json_body={"text": "Да"}, token=admin
    )
    assert said.status == 200
    cache = ctx.service.core.config.tts.cache_path(
        ctx.service.core.config.storage.data_dir
    )
    stored = next(p for p in cache.rglob("*") if p.is_file())
    found = await c.call(
        "GET", prompts, path_params={"name": stored.relative_to(cache).as_posix()}
    )
    assert found.status == 200


# -- Rostelecom webhooks (pbx/vpbx) ---------------------------------------------


def vpbx_headers(body: bytes) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-Client-ID": VPBX_CLIENT,
        "X-Client-Sign": sign(VPBX_CLIENT, body, VPBX_KEY),
    }


async def exercise_vpbx(ctx: Context) -> None:
    c = ctx.client
    info = json.dumps({"from_number": "79161234567", "request_number": "74951234567"})
    unsigned = await c.call("POST", "/vpbx/get_number_info", raw_body=info.encode())
    assert unsigned.status == 401
    answered = await c.call(
        "POST",
        "/vpbx/get_number_info",
        raw_body=info.encode(),
        headers=vpbx_headers(info.encode()),
    )
    assert answered.status == 200
    event = json.dumps(
        {
            "session_id": "S-1",
            "state": "new",
            "type": "incoming",
            "timestamp": "2026-01-05 12:00:00.000",
            "from_number": "79161234567",
            "request_number": "74951234567",
        }
    ).encode()
    published = await c.call(
        "POST", "/vpbx/call_events", raw_body=event, headers=vpbx_headers(event)
    )
    # Without the events hub the PBX is told to retry; with it, the event is kept.
    assert published.status == (200 if ctx.service.core.events else 503)
    done = json.dumps({"order_id": "o-1"}).encode()
    notified = await c.call(
        "POST",
        "/vpbx/history_file_completed",
        raw_body=done,
        headers=vpbx_headers(done),
    )
    assert notified.status == 200


# -- TTS cache (tts_cache) ------------------------------------------------------


async def exercise_tts(ctx: Context) -> None:
    c, admin = ctx.client, ADMIN_TOKEN
    assert (await c.call("GET", "/api/v1/tts/stats", token=admin)).status == 200
    assert (await c.call("GET", "/api/v1/tts/stats")).status == 401
    say = "/api/v1/tts/synthesize"
    spoken = await c.call("POST", say, json_body={"text": "Здравствуйте"}, token=admin)
    assert spoken.status == 200
    assert (
        await c.call("POST", say, json_body={"text": ""}, token=admin)
    ).status == 400
    assert (await c.call("POST", say, json_body={"text": "a"})).status == 401


# -- job runner (jobs) -----------------------------------------------------------


async def exercise_jobs(ctx: Context) -> None:
    c, admin = ctx.client, ADMIN_TOKEN
    one, runs = "/api/v1/jobs/{id}", "/api/v1/jobs/{id}/runs"
    assert (await c.call("GET", "/api/v1/jobs", token=admin)).status == 200
    assert (await c.call("GET", "/api/v1/jobs")).status == 401
    job = {"id": "cdr_loader"}
    assert (await c.call("GET", one, path_params=job, token=admin)).status == 200
    missing = await c.call("GET", one, path_params={"id": "nope"}, token=admin)
    assert missing.status == 404
    patched = await c.call(
        "PATCH", one, path_params=job, json_body={"enabled": False}, token=admin
    )
    assert patched.status == 200
    bad = await c.call(
        "PATCH",
        one,
        path_params=job,
        json_body={
            "schedule": {
                "begin_time": "21:00:00",
                "end_time": "08:00:00",
                "repeat_seconds": 0,
            }
        },
        token=admin,
    )
    assert bad.status == 400
    ran = await c.call(
        "POST",
        "/api/v1/jobs/{id}/run",
        path_params=job,
        params={"wait": "true"},
        token=admin,
    )
    assert ran.status == 200
    assert (await c.call("GET", runs, path_params=job, token=admin)).status == 200
    bad_limit = await c.call(
        "GET", runs, path_params=job, params={"limit": "x"}, token=admin
    )
    assert bad_limit.status == 400
    preview = await c.call("GET", "/api/v1/jobs/metrics/preview", token=admin)
    assert preview.status == 200


# -- call journal (bridge/journal) ---------------------------------------------------


async def exercise_journal(ctx: Context) -> None:
    c, admin = ctx.client, ADMIN_TOKEN
    listed = await c.call("GET", "/api/v1/calls", params={"q": "201"}, token=admin)
    assert listed.status == 200
    assert (await c.call("GET", "/api/v1/calls")).status == 401
    bad = await c.call("GET", "/api/v1/calls", params={"direction": "up"}, token=admin)
    assert bad.status == 400
    csv = await c.call("GET", "/api/v1/calls/export", token=admin)
    assert csv.status == 200
    one = await c.call(
        "GET", "/api/v1/calls/{linkedid}", path_params={"linkedid": "nope"}, token=admin
    )
    assert one.status == 404
    recording = await c.call(
        "GET", "/api/v1/calls/{id}/recording", path_params={"id": "1"}, token=admin
    )
    assert recording.status == 404
    stats = "/api/v1/stats/calls"
    assert (await c.call("GET", stats, token=admin)).status == 200
    assert (
        await c.call("GET", stats, params={"bucket": "year"}, token=admin)
    ).status == 400


# -- events channel and consumers (bridge/longpoll) -------------------------------


async def exercise_events(ctx: Context) -> None:
    c, admin = ctx.client, ADMIN_TOKEN
    consumers, one = "/api/v1/consumers", "/api/v1/consumers/{name}"
    base = {"name": "contract-base", "kind": "onec"}
    made = await c.call("POST", consumers, json_body=base, token=admin)
    assert made.status == 201
    assert (await c.call("POST", consumers, json_body=base, token=admin)).status == 409
    assert (await c.call("GET", consumers, token=admin)).status == 200
    assert (await c.call("GET", consumers)).status == 401
    token = made.body["token"]
    events = "/api/v1/events"
    note = {"topic": "history.updated", "data": {"rows": 1}}
    assert (await c.call("POST", events, json_body=note, token=admin)).status == 201
    bad = {"topic": "call", "data": {"call_id": "x"}}
    assert (await c.call("POST", events, json_body=bad, token=admin)).status == 400
    polled = await c.call("GET", events, params={"wait": "0"}, token=token)
    assert polled.status == 200
    assert polled.body["events"]
    malformed = await c.call("GET", events, params={"cursor": "x!"}, token=token)
    assert malformed.status == 400
    assert (await c.call("GET", events)).status == 401
    channels = "/api/v1/channels"
    assert (await c.call("GET", channels, token=admin)).status == 200
    close, reopen = channels + "/{channel}/close", channels + "/{channel}/open"
    events_channel = {"channel": "events"}
    shut = await c.call(
        "POST",
        close,
        path_params=events_channel,
        json_body={"reason": "infobase update"},
        token=admin,
    )
    assert shut.status == 200
    refused = await c.call("GET", events, params={"wait": "0"}, token=token)
    assert refused.status == 503
    assert refused.headers["Retry-After"]
    opened = await c.call("POST", reopen, path_params=events_channel, token=admin)
    assert opened.status == 200
    unknown = await c.call("POST", reopen, path_params={"channel": "x"}, token=admin)
    assert unknown.status == 404
    gone = await c.call(
        "DELETE", one, path_params={"name": "contract-base"}, token=admin
    )
    assert gone.status == 204
    again = await c.call(
        "DELETE", one, path_params={"name": "contract-base"}, token=admin
    )
    assert again.status == 404


EXERCISES: list[Exercise] = [
    exercise_events,
    exercise_journal,
    exercise_jobs,
    exercise_contact_channel,
    exercise_ivr,
    exercise_vpbx,
    exercise_tts,
]


# -- the check ----------------------------------------------------------------


@pytest.fixture
async def ctx(tmp_path: Path) -> AsyncIterator[Context]:
    # Long enough for the fake 1C on a loaded machine; the silent case waits it out.
    config = make_config(
        tmp_path,
        http={"contacts": {"deadline_seconds": 1.5}},
        vpbx={"client_id": VPBX_CLIENT, "sign_key": VPBX_KEY},
    )
    async with running(config) as (core, where), aiohttp.ClientSession() as session:
        consumers = FakeConsumers()
        core.consumers = consumers
        service = RunningService(core, where)
        async with session.get(f"{service.url}/api/v1/openapi.json") as r:
            assert r.status == 200
            document = await r.json()
        contract = Contract(document)
        yield Context(
            ContractClient(session, service.url, contract), service, consumers
        )


async def test_every_declared_operation_answers_as_documented(ctx: Context) -> None:
    contract = ctx.client.contract
    contract.check_schemas()
    for exercise in EXERCISES:
        await exercise(ctx)
    declared = contract.operations()
    missing = declared - contract.exercised - set(NOT_EXERCISED)
    assert not missing, f"declared but never exercised: {sorted(missing)}"
    assert not set(NOT_EXERCISED) - declared, "NOT_EXERCISED lists unknown operations"


async def test_an_undeclared_status_fails_the_check(ctx: Context) -> None:
    """The checker itself must be able to fail."""
    contract = ctx.client.contract
    with pytest.raises(AssertionError, match="does not declare"):
        contract.check_response(
            "GET", "/api/v1/panel/contact-card", 418, "application/json", {}
        )
    with pytest.raises(AssertionError, match="does not match"):
        contract.check_response(
            "GET",
            "/api/v1/panel/contact-card",
            200,
            "application/json",
            {"number": 5},
        )
