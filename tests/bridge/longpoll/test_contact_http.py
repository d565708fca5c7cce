"""The contact channel end to end on real sockets: the PBX asks through the
crmd-compatible listener, a fake 1C (tests/fakes/onec_contacts.py) answers over the
long-poll API, panels authorize. Consumers come from tests/fakes/consumers.py, an
in-test stand-in for the registry built on another branch.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bridge.contacts import ContactMatch, ContactOwner
from bridge.longpoll.broker import Answered, RequestKind
from bridge.longpoll.consumer_auth import ConsumerKind
from bridge.service import running
from tests.conftest import RunningService, make_config
from tests.fakes.consumers import FakeConsumers
from tests.fakes.onec_contacts import running_onec

NUMBER = "+79161234567"


async def start(tmp_path: Path, deadline: float) -> AsyncIterator[RunningService]:
    config = make_config(
        tmp_path,
        # getivrtext relayed to 1C: the incumbent's mode, which these tests cover.
        crmd={"deadline_seconds": deadline, "ivr_text": "relay"},
        http={"contacts": {"deadline_seconds": deadline, "default_wait_seconds": 5}},
        auth={"panel": {"max_failures": 3, "window_seconds": 900}},
    )
    async with running(config) as (core, where):
        core.consumers = FakeConsumers()
        yield RunningService(core, where)


@pytest.fixture
async def svc(tmp_path: Path) -> AsyncIterator[RunningService]:
    """The service with deadlines generous enough for a loaded CI machine."""
    async for service in start(tmp_path, 5.0):
        yield service


@pytest.fixture
async def quick(tmp_path: Path) -> AsyncIterator[RunningService]:
    """The service with short deadlines, for the fallback paths."""
    async for service in start(tmp_path, 0.3):
        yield service


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def consumers(svc: RunningService) -> FakeConsumers:
    registry = svc.core.consumers
    assert isinstance(registry, FakeConsumers)
    return registry


async def knows_ivanov(kind: str, payload: dict[str, Any]) -> dict[str, Any] | None:
    if kind == "caller_id":
        if payload["number"] == NUMBER:
            return {"data": {"caller_id": "Иванов", "client": "ООО Ромашка"}}
        return {"error": "контакт не найден"}
    if kind == "ivr_text":
        return {"data": {"tts_service": "Yandex", "texttospeech": ["Здравствуйте"]}}
    if kind == "ivr_callback_number":
        return {"data": {}}
    if kind == "panel_auth":
        if payload == {"extension": "201", "pin": "1234"}:
            return {
                "data": {"authorized": True, "user_id": "u-201", "user_name": "Петров"}
            }
        return {"data": {"authorized": False}}
    if kind == "contact_card":
        if payload["number"] != NUMBER:
            return {"error": "контакт не найден"}
        return {"data": {"name": "Иванов", "company": "ООО Ромашка"}}
    return None


async def get_json(
    http: aiohttp.ClientSession, method: str, url: str, **kw: Any
) -> tuple[int, Any, aiohttp.ClientResponse]:
    async with http.request(method, url, **kw) as r:
        return r.status, await r.json(), r


# -- crmd ---------------------------------------------------------------------


async def test_getcallerid_relays_to_1c_and_answers_in_crmd_shape(svc, http):
    token = consumers(svc).add("base1")
    async with running_onec(svc.url, token, knows_ivanov) as onec:
        status, body, _ = await get_json(
            http, "GET", f"{svc.crmd_url}/getcallerid", params={"number": "89161234567"}
        )
        assert (status, body) == (
            200,
            {
                "result": "Success",
                "data": {"caller_id": "Иванов", "client": "ООО Ромашка"},
            },
        )
        assert onec.seen[0]["kind"] == "caller_id"
        assert onec.seen[0]["payload"] == {"number": NUMBER, "raw": "89161234567"}
        status, body, _ = await get_json(
            http,
            "GET",
            f"{svc.crmd_url}/getcallerid",
            params={"number": "+74950000000"},
        )
        assert (status, body) == (
            200,
            {"result": "Error", "cause": "контакт не найден"},
        )


class OneOwner:
    """A contact index that knows one number (the real one lands with issue 6)."""

    async def lookup(self, number: str) -> ContactMatch | None:
        if number != NUMBER:
            return None
        owner = ContactOwner(
            "ref-1", "Catalog_КонтактныеЛица", "Иванов", "ref-2", "Ромашка"
        )
        return ContactMatch(NUMBER, (owner,))


async def test_getcallerid_answers_from_the_local_index_first(svc, http):
    svc.core.contacts = OneOwner()
    token = consumers(svc).add("base1")
    async with running_onec(svc.url, token, knows_ivanov) as onec:
        _, body, _ = await get_json(
            http, "GET", f"{svc.crmd_url}/getcallerid", params={"number": NUMBER}
        )
        assert body == {
            "result": "Success",
            "data": {"caller_id": "Иванов (Ромашка)", "client": "Ромашка"},
        }
        assert onec.seen == []
        # Not in the index: relayed to 1C.
        _, body, _ = await get_json(
            http,
            "GET",
            f"{svc.crmd_url}/getcallerid",
            params={"number": "+74950000000"},
        )
        assert body["result"] == "Error"
        assert [r["kind"] for r in onec.seen] == ["caller_id"]


async def test_silent_1c_gives_the_documented_fallback_within_the_deadline(quick, http):
    svc = quick

    async def silent(kind: str, payload: dict[str, Any]) -> None:
        return None

    token = consumers(svc).add("base1")
    async with running_onec(svc.url, token, silent) as onec:
        status, body, _ = await get_json(
            http, "GET", f"{svc.crmd_url}/getivrtext", params={"number": NUMBER}
        )
        assert status == 200
        assert body == {"result": "Error", "cause": "1C did not answer within 0.3 s"}
        # Answering now is too late, and says so.
        await onec.respond(http, onec.seen[0]["id"], {"data": {}})
        assert onec.answer_statuses == [409]
    # Nobody polling at all: the same fallback.
    _, body, _ = await get_json(
        http, "GET", f"{svc.crmd_url}/getcallerid", params={"number": NUMBER}
    )
    assert body["result"] == "Error"


async def test_ivr_text_and_callback_number_relay(svc, http):
    token = consumers(svc).add("base1")
    async with running_onec(svc.url, token, knows_ivanov) as onec:
        _, body, _ = await get_json(
            http, "GET", f"{svc.crmd_url}/getivrtext", params={"number": NUMBER}
        )
        assert body == {
            "result": "Success",
            "data": {"tts_service": "Yandex", "texttospeech": ["Здравствуйте"]},
        }
        _, body, _ = await get_json(
            http, "POST", f"{svc.crmd_url}/setcallbacknumber", params={"number": "2000"}
        )
        assert body == {"result": "Success", "data": {}}
        assert onec.seen[-1]["payload"] == {"number": "2000"}


@pytest.mark.parametrize(
    ("method", "path", "params", "status"),
    [
        ("GET", "/getcallerid", {}, 400),
        ("GET", "/getcallerid", {"number": "abc"}, 400),
        ("GET", "/getivrtext", {"number": ""}, 400),
        ("POST", "/setcallbacknumber", {"number": "+79161234567"}, 400),
        ("GET", "/nosuch", {}, 404),
        ("DELETE", "/getcallerid", {"number": NUMBER}, 405),
    ],
)
async def test_crmd_bad_input_answers_in_the_crmd_envelope(
    svc, http, method, path, params, status
):
    got, body, _ = await get_json(http, method, f"{svc.crmd_url}{path}", params=params)
    assert got == status
    assert body["result"] == "Error"
    assert body["cause"]


# -- 1C's side: polls and answers ---------------------------------------------


async def poll(http, svc, token: str, **params: Any) -> tuple[int, Any]:
    status, body, _ = await get_json(
        http,
        "GET",
        f"{svc.url}/api/v1/contacts/requests",
        params={"wait": 0, **params},
        headers={"Authorization": f"Bearer {token}"},
    )
    return status, body


async def answer(http, svc, token: str, body: Any, **kw: Any) -> tuple[int, Any]:
    status, got, _ = await get_json(
        http,
        "POST",
        f"{svc.url}/api/v1/contacts/responses",
        headers={"Authorization": f"Bearer {token}"},
        **({"json": body} if body is not None else kw),
    )
    return status, got


async def pending_request(svc, http, token: str) -> tuple[asyncio.Task[Any], str]:
    """A caller-id question in flight (generous deadline), and the id 1C took."""
    channel = svc.core.contact_channel
    assert channel is not None
    asking = asyncio.create_task(
        channel.ask(RequestKind.CALLER_ID, {"number": NUMBER}, 30)
    )
    async with asyncio.timeout(5):
        while True:
            status, body = await poll(http, svc, token, wait=5)
            assert status == 200
            if body["requests"]:
                return asking, body["requests"][0]["id"]


async def test_bad_answers_get_clear_errors_and_the_request_stays_answerable(svc, http):
    token = consumers(svc).add("base1")
    other = consumers(svc).add("base2")
    asking, rid = await pending_request(svc, http, token)
    cases: list[tuple[Any, dict[str, Any], int, str]] = [
        ({"id": rid, "data": {"caller_id": 5}}, {}, 400, "invalid-field"),
        ({"id": rid, "data": {"nickname": "x"}}, {}, 400, "invalid-field"),
        ({"id": rid, "data": {}, "error": "x"}, {}, 400, "invalid-field"),
        ({"id": rid}, {}, 400, "invalid-field"),
        ({"id": rid, "data": {}, "extra": 1}, {}, 400, "invalid-field"),
        (None, {"data": b"{not json"}, 400, "invalid-json"),
        (None, {"data": b"x" * 70_000}, 413, "body-too-large"),
        ({"id": "no-such-request", "data": {}}, {}, 404, "contact-request-unknown"),
    ]
    for body, kw, status, error_id in cases:
        got_status, got = await answer(http, svc, token, body, **kw)
        assert (got_status, got["error"]["id"]) == (status, error_id), body
    status, got = await answer(http, svc, other, {"id": rid, "data": {}})
    assert (status, got["error"]["id"]) == (409, "contact-request-not-yours")
    status, got = await answer(
        http, svc, token, {"id": rid, "data": {"caller_id": "И"}}
    )
    assert (status, got) == (200, {"id": rid, "accepted": True})
    status, got = await answer(
        http, svc, token, {"id": rid, "data": {"caller_id": "И"}}
    )
    assert (status, got["error"]["id"]) == (409, "contact-request-answered")
    async with asyncio.timeout(5):
        assert await asking == Answered({"caller_id": "И", "client": ""})


async def test_polls_need_a_1c_consumer_token_and_valid_parameters(svc, http):
    url = f"{svc.url}/api/v1/contacts/requests"
    status, body, resp = await get_json(http, "GET", url)
    assert (status, body["error"]["id"]) == (401, "unauthorized")
    assert resp.headers["WWW-Authenticate"] == "Bearer"
    status, body = await poll(http, svc, "wrong-token")
    assert (status, body["error"]["id"]) == (401, "unauthorized")
    panel = consumers(svc).add("panel-201", ConsumerKind.PANEL)
    status, body = await poll(http, svc, panel)
    assert (status, body["error"]["id"]) == (403, "onec-consumer-required")
    token = consumers(svc).add("base1")
    for params in ({"wait": "51"}, {"wait": "x"}, {"wait": "-1"}, {"limit": "0"}):
        status, body = await poll(http, svc, token, **params)
        assert (status, body["error"]["details"]["field"]) == (400, next(iter(params)))
    status, body = await poll(http, svc, token)
    assert (status, body) == (200, {"requests": []})


async def test_without_a_consumer_registry_the_channel_says_so(svc, http):
    svc.core.consumers = None
    status, body = await poll(http, svc, "any")
    assert (status, body["error"]["id"]) == (503, "consumers-unavailable")


# -- panels -------------------------------------------------------------------


async def panel_auth(http, svc, body: Any) -> tuple[int, Any, aiohttp.ClientResponse]:
    return await get_json(http, "POST", f"{svc.url}/api/v1/panel/auth", json=body)


async def test_panel_auth_issues_an_extension_token_when_1c_confirms_the_pin(svc, http):
    token = consumers(svc).add("base1")
    async with running_onec(svc.url, token, knows_ivanov):
        status, body, _ = await panel_auth(
            http, svc, {"extension": "201", "pin": "1234"}
        )
    assert status == 200
    assert body["extension"] == "201"
    assert body["user_id"] == "u-201"
    assert body["user_name"] == "Петров"
    assert consumers(svc).panel_tokens == [(body["token"], "201", "u-201")]
    panel = await consumers(svc).authenticate(body["token"])
    assert panel is not None
    assert (panel.kind, panel.extension) == (ConsumerKind.PANEL, "201")


async def test_pin_guessing_locks_the_extension_out_without_asking_1c(svc, http):
    token = consumers(svc).add("base1")
    async with running_onec(svc.url, token, knows_ivanov) as onec:
        for _ in range(3):
            status, body, _ = await panel_auth(
                http, svc, {"extension": "201", "pin": "0000"}
            )
            assert (status, body["error"]["id"]) == (403, "panel-auth-denied")
        asked = len(onec.seen)
        status, body, resp = await panel_auth(
            http, svc, {"extension": "201", "pin": "1234"}
        )
        assert (status, body["error"]["id"]) == (429, "panel-auth-locked")
        assert 0 < int(resp.headers["Retry-After"]) <= 900
        assert len(onec.seen) == asked
        # Another extension is not affected.
        status, _, _ = await panel_auth(http, svc, {"extension": "202", "pin": "0000"})
        assert status == 403
    assert consumers(svc).panel_tokens == []
    async with http.get(f"{svc.url}/metrics") as r:
        text = await r.text()
    assert 'telebridge_panel_auth_failures_total{reason="wrong_pin"} 4.0' in text
    assert 'telebridge_panel_auth_failures_total{reason="lockout"} 1.0' in text
    assert 'telebridge_panel_auth_failures_total{reason="locked"} 1.0' in text


@pytest.mark.parametrize(
    "body",
    [
        {"extension": "201"},
        {"extension": "201", "pin": "12"},
        {"extension": "201", "pin": 1234},
        {"extension": "+79161234567", "pin": "1234"},
        {"extension": "20 1", "pin": "1234"},
        {"extension": "201", "pin": "1234", "user": "x"},
        [],
    ],
)
async def test_panel_auth_rejects_bad_input(svc, http, body):
    status, got, _ = await panel_auth(http, svc, body)
    assert (status, got["error"]["id"]) == (400, "invalid-field")


async def test_panel_auth_without_1c_is_503_not_a_denial(quick, http):
    svc = quick
    status, body, resp = await panel_auth(
        http, svc, {"extension": "201", "pin": "1234"}
    )
    assert (status, body["error"]["id"]) == (503, "contact-channel-unavailable")
    assert resp.headers["Retry-After"]


async def test_contact_card_for_the_panel_banner(svc, http):
    token = consumers(svc).add("base1")
    panel = consumers(svc).add("panel-201", ConsumerKind.PANEL)
    url = f"{svc.url}/api/v1/panel/contact-card"
    headers = {"Authorization": f"Bearer {panel}"}
    async with running_onec(svc.url, token, knows_ivanov):
        status, body, _ = await get_json(
            http, "GET", url, params={"number": "8 916 123-45-67"}, headers=headers
        )
        assert (status, body) == (
            200,
            {
                "number": NUMBER,
                "found": True,
                "card": {"name": "Иванов", "company": "ООО Ромашка"},
                "source": "1c",
                "detail": "",
            },
        )
        status, body, _ = await get_json(
            http, "GET", url, params={"number": "+74950000000"}, headers=headers
        )
        assert (status, body["found"], body["source"]) == (200, False, "1c")
        assert body["detail"] == "контакт не найден"
    status, body, _ = await get_json(
        http, "GET", url, params={"number": "nope"}, headers=headers
    )
    assert (status, body["error"]["id"]) == (400, "invalid-field")
    status, body, _ = await get_json(http, "GET", url, params={"number": NUMBER})
    assert status == 401


# -- health -------------------------------------------------------------------


async def test_health_shows_plainly_whether_1c_polls_the_contact_channel(svc, http):
    async def component() -> dict[str, Any]:
        _, body, _ = await get_json(http, "GET", f"{svc.url}/healthz")
        found: dict[str, Any] = body["components"]["contact_channel"]
        return found

    down = await component()
    assert down["state"] == "degraded"
    assert "panels cannot authorize" in down["detail"]
    token = consumers(svc).add("base1")
    async with running_onec(svc.url, token, knows_ivanov):
        # Poll health until the fake 1C's poll is parked (deadline: 200 probes).
        states = []
        for _ in range(200):
            states.append((await component())["state"])
            if states[-1] == "ok":
                break
        assert states[-1] == "ok"
        up = await component()
        assert up["data"]["seconds_since_poll"] == 0.0


async def test_a_poll_dropped_by_its_client_never_swallows_a_request(svc, http):
    """1C's connection dies while its poll is parked: the next request goes to the
    consumer that is still connected, not into the dead socket."""
    broker = svc.core.contact_channel.broker
    dead_token = consumers(svc).add("dead")
    live_token = consumers(svc).add("live")
    async with aiohttp.ClientSession() as doomed:
        dropped = asyncio.create_task(poll(doomed, svc, dead_token, wait=30))
        for _ in range(200):  # until the server has parked it (bounded probes)
            if broker.parked == 1:
                break
            await asyncio.sleep(0)
            async with http.get(f"{svc.url}/healthz"):
                pass
        assert broker.parked == 1
        dropped.cancel()
        await asyncio.gather(dropped, return_exceptions=True)
    # The server notices the closed socket; the parked poll no longer counts.
    for _ in range(200):
        if broker.parked == 0:
            break
        async with http.get(f"{svc.url}/healthz"):
            pass
    assert broker.parked == 0
    asking, rid = await pending_request(svc, http, live_token)
    status, _ = await answer(http, svc, live_token, {"id": rid, "data": {}})
    assert status == 200
    async with asyncio.timeout(5):
        assert await asking == Answered({"caller_id": "", "client": ""})


async def test_contact_card_without_1c_is_the_fallback(quick, http):
    panel = consumers(quick).add("panel-201", ConsumerKind.PANEL)
    status, body, _ = await get_json(
        http,
        "GET",
        f"{quick.url}/api/v1/panel/contact-card",
        params={"number": NUMBER},
        headers={"Authorization": f"Bearer {panel}"},
    )
    assert (status, body["found"], body["card"]) == (200, False, None)
    assert (body["source"], body["detail"]) == (
        "fallback",
        "1C did not answer within 0.3 s",
    )


async def test_a_malformed_panel_auth_answer_names_the_problem(svc, http):
    token = consumers(svc).add("base1")
    asking = asyncio.create_task(
        panel_auth(http, svc, {"extension": "201", "pin": "1234"})
    )
    async with asyncio.timeout(5):
        batch: list[Any] = []
        while not batch:
            _, body = await poll(http, svc, token, wait=5)
            batch = body["requests"]
    rid = batch[0]["id"]
    status, got = await answer(
        http, svc, token, {"id": rid, "data": {"authorized": True}}
    )
    assert (status, got["error"]["details"]["field"]) == (400, "data")
    assert "user_id is required" in got["error"]["message"]
    ok = {"id": rid, "data": {"authorized": True, "user_id": "u-201"}}
    assert (await answer(http, svc, token, ok))[0] == 200
    async with asyncio.timeout(5):
        status, body, _ = await asking
    assert (status, body["user_id"]) == (200, "u-201")


async def test_parallel_guesses_cannot_outrun_the_lockout(svc, http):
    token = consumers(svc).add("base1")
    async with running_onec(svc.url, token, knows_ivanov) as onec:
        results = await asyncio.gather(
            *(
                panel_auth(http, svc, {"extension": "201", "pin": f"{i:04d}"})
                for i in range(10)
            )
        )
        statuses = sorted(status for status, _, _ in results)
        asked = [r for r in onec.seen if r["kind"] == "panel_auth"]
    assert len(asked) <= 3  # auth.panel.max_failures in this fixture
    assert statuses.count(403) == len(asked)
    assert statuses.count(429) == 10 - len(asked)


async def test_getcallerid_without_relay_answers_from_the_index_only(tmp_path, http):
    config = make_config(tmp_path, crmd={"relay_caller_id": False})
    async with running(config) as (core, where):
        registry = FakeConsumers()
        core.consumers = registry
        core.contacts = OneOwner()
        svc = RunningService(core, where)
        async with running_onec(svc.url, registry.add("base1"), knows_ivanov) as onec:
            url = f"{svc.crmd_url}/getcallerid"
            _, known, _ = await get_json(http, "GET", url, params={"number": NUMBER})
            _, unknown, _ = await get_json(
                http, "GET", url, params={"number": "+74950000000"}
            )
        assert known["result"] == "Success"
        assert unknown == {"result": "Error", "cause": "contact not found"}
        assert onec.seen == []
