"""The three Rostelecom webhooks on the main app, over real HTTP.

The PBX side is played by signing requests exactly as manual §10.6.3 describes;
the long-poll hub by a recording event sink; the contact index by a dict.
"""

from __future__ import annotations

import asyncio
import json

import pytest

from bridge.call_events import CallKind, CallState
from pbx.vpbx.feature import VPBX
from tests.pbx.vpbx.webhook_harness import (
    CLIENT_ID,
    NEW_CALL,
    OLD_KEY,
    metric,
    post,
    signed,
)


async def test_a_signed_call_event_is_published_as_a_call_event(pbx):
    client, core, sink = pbx
    resp = await post(client, "call_events", NEW_CALL)
    assert resp.status == 200
    assert await resp.json() == {"result": "0", "resultMessage": "OK"}
    [event] = sink.calls
    assert (event.state, event.kind) == (CallState.CALLING, CallKind.NEW)
    assert event.from_.number == "+79161234567"
    assert event.did == "+74951234567"
    accepted = {"method": "call_events", "key": "current"}
    assert metric(core, "telebridge_vpbx_webhooks_total", accepted) == 1


async def test_an_exact_repeat_is_acknowledged_but_published_once(pbx):
    """A retry or a replay: the signature carries no nonce, the body is the key."""
    client, core, sink = pbx
    assert (await post(client, "call_events", NEW_CALL)).status == 200
    assert (await post(client, "call_events", NEW_CALL)).status == 200
    later = {**NEW_CALL, "timestamp": "2026-01-05 12:00:00.001"}
    assert (await post(client, "call_events", later)).status == 200
    assert len(sink.calls) == 2
    duplicate = {"reason": "duplicate"}
    assert metric(core, "telebridge_vpbx_call_events_ignored_total", duplicate) == 1


async def test_the_signature_covers_the_exact_bytes_received(pbx):
    """Spacing the PBX chose is what it signed: no re-serialization on our side."""
    client, _core, sink = pbx
    body = b'{"session_id": "SID-1",  "state": " end ","type":"incoming"}'
    assert (await post(client, "call_events", body)).status == 200
    assert sink.calls[0].state is CallState.FINISHED


@pytest.mark.parametrize(
    ("headers", "status", "error_id"),
    [
        ({}, 401, "vpbx-unsigned"),
        ({"X-Client-ID": CLIENT_ID}, 401, "vpbx-unsigned"),
        ({"X-Client-ID": "0" * 32, "X-Client-Sign": "x"}, 403, "vpbx-unknown-client"),
        (
            {"X-Client-ID": CLIENT_ID, "X-Client-Sign": "0" * 64},
            403,
            "vpbx-bad-signature",
        ),
    ],
)
async def test_unsigned_or_badly_signed_requests_are_refused_and_counted(
    pbx, headers, status, error_id
):
    client, core, sink = pbx
    for method in ("call_events", "get_number_info", "history_file_completed"):
        resp = await client.post(
            f"/vpbx/{method}", data=b'{"session_id":"S"}', headers=headers
        )
        assert resp.status == status
        assert (await resp.json())["error"]["id"] == error_id
        assert ("WWW-Authenticate" in resp.headers) is (status == 401)
        refused = {"method": method, "reason": error_id}
        assert metric(core, "telebridge_vpbx_webhooks_rejected_total", refused) == 1
    assert sink.calls == []


async def test_a_body_changed_after_signing_is_refused(pbx):
    client, _core, sink = pbx
    body = json.dumps(NEW_CALL).encode()
    headers = signed(body)
    tampered = body.replace(b"79161234567", b"79160000000")
    resp = await client.post("/vpbx/call_events", data=tampered, headers=headers)
    assert resp.status == 403
    assert sink.calls == []


async def test_the_previous_key_works_during_the_grace_window_only(pbx, clock):
    client, core, sink = pbx
    assert (await post(client, "call_events", NEW_CALL, key=OLD_KEY)).status == 200
    clock.advance(601)
    resp = await post(client, "call_events", NEW_CALL, key=OLD_KEY)
    assert resp.status == 403
    assert len(sink.calls) == 1
    previous = {"method": "call_events", "key": "previous"}
    assert metric(core, "telebridge_vpbx_webhooks_total", previous) == 1


async def test_a_restart_does_not_reopen_the_rotation_window(setup, clock):
    client, _core, _sink = await setup()
    assert (await post(client, "call_events", NEW_CALL, key=OLD_KEY)).status == 200
    clock.advance(601)
    restarted, _core, _sink = await setup()
    resp = await post(restarted, "call_events", NEW_CALL, key=OLD_KEY)
    assert resp.status == 403


async def test_an_address_outside_the_allowlist_is_refused(setup):
    client, _core, sink = await setup(allowlist=["194.54.0.0/16"])
    resp = await post(client, "call_events", NEW_CALL)
    assert resp.status == 403
    assert (await resp.json())["error"]["id"] == "vpbx-address-not-allowed"
    assert sink.calls == []


async def test_an_address_inside_the_allowlist_is_served(setup):
    client, _core, sink = await setup(allowlist=["127.0.0.0/8"])
    assert (await post(client, "call_events", NEW_CALL)).status == 200
    assert len(sink.calls) == 1


async def test_behind_a_trusted_proxy_the_allowlist_checks_the_real_caller(setup):
    client, _core, sink = await setup(
        allowlist=["194.54.0.0/16"], trusted_proxies=["127.0.0.1"]
    )
    body = json.dumps(NEW_CALL).encode()
    for forwarded, status in (("194.54.1.2", 200), ("194.54.1.2, 8.8.8.8", 403)):
        headers = {**signed(body), "X-Forwarded-For": forwarded}
        resp = await client.post("/vpbx/call_events", data=body, headers=headers)
        assert resp.status == status
    assert len(sink.calls) == 1


async def test_an_oversized_body_is_413_and_the_service_keeps_serving(pbx):
    client, _core, sink = pbx
    body = json.dumps({**NEW_CALL, "padding": "x" * 70_000}).encode()
    resp = await client.post("/vpbx/call_events", data=body, headers=signed(body))
    assert resp.status == 413
    assert (await resp.json())["error"]["id"] == "body-too-large"
    assert (await post(client, "call_events", NEW_CALL)).status == 200
    assert len(sink.calls) == 1


async def test_without_configuration_every_request_is_refused(setup):
    client, _core, _sink = await setup(client_id="", sign_key="")
    resp = await post(client, "call_events", NEW_CALL)
    assert resp.status == 403
    assert (await resp.json())["error"]["id"] == "vpbx-not-configured"


async def test_unknown_states_are_acknowledged_ignored_and_counted(pbx):
    client, core, sink = pbx
    resp = await post(client, "call_events", {**NEW_CALL, "state": "analytics"})
    assert resp.status == 200
    assert sink.calls == []
    ignored = {"reason": "unknown-state"}
    assert metric(core, "telebridge_vpbx_call_events_ignored_total", ignored) == 1


@pytest.mark.parametrize(
    ("body", "error_id", "field"),
    [
        (b"{not json", "invalid-json", None),
        (b'["a list"]', "invalid-field", "body"),
        (b'{"state":"new"}', "invalid-field", "session_id"),
        (
            b'{"session_id":"S","state":"new","is_record":[1]}',
            "invalid-field",
            "is_record",
        ),
    ],
)
async def test_bad_bodies_are_400_and_nothing_is_published(pbx, body, error_id, field):
    client, _core, sink = pbx
    resp = await post(client, "call_events", body)
    assert resp.status == 400
    error = (await resp.json())["error"]
    assert error["id"] == error_id
    if field:
        assert error["details"]["field"] == field
    assert sink.calls == []
    # ... and the service keeps serving.
    assert (await post(client, "call_events", NEW_CALL)).status == 200


async def test_a_failing_event_store_is_503_so_the_pbx_sees_it(pbx):
    client, _core, sink = pbx
    sink.fail = True
    resp = await post(client, "call_events", NEW_CALL)
    assert resp.status == 503
    assert (await resp.json())["error"]["id"] == "events-unavailable"
    sink.fail = False
    # The PBX's retry of the same body is not taken for a duplicate.
    assert (await post(client, "call_events", NEW_CALL)).status == 200
    assert len(sink.calls) == 1


async def test_without_an_event_stream_call_events_are_503(pbx):
    client, core, _sink = pbx
    core.events = None
    resp = await post(client, "call_events", NEW_CALL)
    assert resp.status == 503


async def test_get_number_info_names_a_known_caller(pbx):
    client, _core, _sink = pbx
    payload = {
        "domain": "d.cloudpbx.rt.ru",
        "from_number": "79161234567",
        "request_number": "74951234567",
        "something_new": True,
    }
    resp = await post(client, "get_number_info", payload)
    assert resp.status == 200
    assert await resp.json() == {
        "result": "0",
        "resultMessage": "",
        "displayName": "ООО Ромашка",
    }


async def test_get_number_info_routes_to_the_routers_pin(pbx):
    client, core, _sink = pbx

    class Router:
        async def route(self, caller, called):
            return "201"

    core.router = Router()
    payload = {"from_number": "sip:+79161234567@x", "request_number": "74951234567"}
    reply = await (await post(client, "get_number_info", payload)).json()
    assert reply["result"] == "1"
    assert reply["PIN"] == "201"


async def test_get_number_info_for_a_stranger_lets_the_pbx_decide(pbx):
    client, _core, _sink = pbx
    payload = {"from_number": "+74950000000"}
    reply = await (await post(client, "get_number_info", payload)).json()
    assert reply == {
        "result": "0",
        "resultMessage": "no information",
        "displayName": "",
    }


async def test_get_number_info_for_a_hidden_number_lets_the_pbx_decide(pbx):
    client, _core, _sink = pbx
    for payload in ({"request_number": "74951234567"}, {"from_number": "anonymous"}):
        resp = await post(client, "get_number_info", payload)
        assert resp.status == 200
        assert (await resp.json())["displayName"] == ""


async def test_history_file_completed_wakes_the_waiting_order(pbx):
    client, _core, _sink = pbx
    files = client.app[VPBX].history_files
    waiting = asyncio.create_task(files.wait("ORD-7"))
    resp = await post(client, "history_file_completed", {"order_id": "ORD-7"})
    assert resp.status == 200
    async with asyncio.timeout(5):
        assert (await waiting).export_id == "ORD-7"


async def test_history_file_completed_without_an_id_is_400(pbx):
    client, _core, _sink = pbx
    resp = await post(client, "history_file_completed", {"status": "ready"})
    assert resp.status == 400
    assert (await resp.json())["error"]["details"]["field"] == "order_id"


async def test_the_webhooks_are_in_the_openapi_document(pbx):
    client, _core, _sink = pbx
    doc = await (await client.get("/api/v1/openapi.json")).json()
    for name in ("call_events", "get_number_info", "history_file_completed"):
        assert "post" in doc["paths"][f"/vpbx/{name}"]


async def test_health_reports_the_integration_and_its_quotas(pbx):
    client, _core, _sink = pbx
    body = await (await client.get("/healthz")).json()
    vpbx = body["components"]["vpbx"]
    assert vpbx["state"] == "ok"
    assert vpbx["data"]["quota_remaining"]["users_info"] == 100


async def test_health_says_when_the_integration_is_not_configured(setup):
    client, _core, _sink = await setup(client_id="", sign_key="")
    body = await (await client.get("/healthz")).json()
    assert body["components"]["vpbx"]["state"] == "not_configured"


async def test_webhooks_answer_post_only(pbx):
    client, _core, _sink = pbx
    resp = await client.get("/vpbx/call_events")
    assert resp.status == 405
