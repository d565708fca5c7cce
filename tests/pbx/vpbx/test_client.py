"""The outbound client against a fake Rostelecom API on a real port
(`tests.fakes.rostelecom`), which verifies every signature."""

from __future__ import annotations

import json
import shutil
import ssl
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from pbx.config import VpbxConfig
from pbx.vpbx.client import HistoryDirection, HistoryState, VpbxClient
from pbx.vpbx.errors import (
    VpbxBadReply,
    VpbxNotConfigured,
    VpbxQuotaExhausted,
    VpbxRefused,
    VpbxRejected,
    VpbxUnavailable,
)
from pbx.vpbx.metrics import VpbxMetrics
from pbx.vpbx.signature import sign
from tests.fakes.rostelecom import HISTORY_CSV, FakeRostelecomApi, start

CLIENT_ID = "1874BAB574D929ECDD7C2880185FBF69"
KEY = "259D87F014309CD190E91AC53C9C39E0"


@pytest.fixture
async def api():
    fake = FakeRostelecomApi(CLIENT_ID, KEY)
    runner, url = await start(fake)
    fake.url = url  # type: ignore[attr-defined]
    try:
        yield fake
    finally:
        await runner.cleanup()


def config(url: str, **overrides) -> VpbxConfig:
    return VpbxConfig(client_id=CLIENT_ID, sign_key=KEY, api_url=url, **overrides)


@pytest.fixture
async def client(api, clock):
    async with VpbxClient(config(api.url), clock) as c:
        yield c


async def test_call_back_sends_signed_compact_json(client, api):
    reply = await client.call_back("sip:manager@d.cloudpbx.rt.ru", "+79161234567")
    assert reply.ok
    sent = api.received[0]
    assert sent.method == "call_back"
    assert sent.body == {
        "request_number": "+79161234567",
        "from_sipuri": "sip:manager@d.cloudpbx.rt.ru",
    }
    assert sent.headers["X-Client-Sign"] == sign(CLIENT_ID, sent.raw, KEY)
    assert reply.unknown_fields() == {"session_id": "CB-1"}


async def test_non_ascii_is_sent_and_signed_as_utf8(client, api):
    await client.users_info({"comment": "Иванов"})
    assert "Иванов".encode() in api.received[0].raw


async def test_get_record_and_call_info_read_their_fields(client, api):
    link = await client.get_record("SID-1", ip_adress="203.0.113.5")
    info = await client.call_info("SID-1")
    assert link.url == "https://rec/x.mp3"
    assert info.info["duration"] == 42
    assert api.received[0].body == {"session_id": "SID-1", "ip_adress": "203.0.113.5"}


async def test_the_restriction_methods_use_their_two_segment_paths(client, api):
    got = await client.get_outgoing_restriction({"sip_uri": "a@d"})
    await client.set_outgoing_restriction({"sip_uri": "a@d", "restriction": 3})
    assert got.unknown_fields()["restriction"] == 1
    assert [r.method for r in api.received] == [
        "restricting_user_outgoing_calls/get",
        "restricting_user_outgoing_calls/set",
    ]


async def test_an_export_is_ordered_in_domain_time_and_downloaded_unzipped(client, api):
    order = await client.domain_call_history(
        datetime(2026, 1, 4, 21, 0, tzinfo=UTC),
        datetime(2026, 1, 5, 21, 0, tzinfo=UTC),
        direction=HistoryDirection.INCOMING,
        state=HistoryState.NOT_ACCEPTED,
    )
    csv = await client.download_call_history(order.order_id)
    assert order.order_id == "ORD-7"
    assert api.received[0].body == {
        "date_start": "2026-01-05 00:00:00",
        "date_end": "2026-01-06 00:00:00",
        "direction": 1,
        "state": 2,
    }
    assert api.received[1].body == {"order_id": "ORD-7"}
    assert csv == HISTORY_CSV


async def test_a_plain_csv_download_is_returned_as_is(client, api):
    api.replies["download_call_history"] = b"a;b\n1;2\n"
    assert await client.download_call_history("ORD-7") == b"a;b\n1;2\n"


async def test_a_json_answer_to_a_download_is_no_file(client, api):
    api.replies["download_call_history"] = {"result": "0", "resultMessage": "wait"}
    with pytest.raises(VpbxBadReply, match="no file"):
        await client.download_call_history("ORD-7")
    api.replies["download_call_history"] = {"result": "5", "resultMessage": "gone"}
    with pytest.raises(VpbxRefused):
        await client.download_call_history("ORD-7")


async def test_a_broken_gzip_is_a_bad_reply(client, api):
    api.replies["download_call_history"] = b"\x1f\x8bnot really gzip"
    with pytest.raises(VpbxBadReply, match="bad gzip"):
        await client.download_call_history("ORD-7")


async def test_a_non_zero_result_is_refused_with_its_code(client, api):
    api.replies["call_back"] = {"result": "2", "resultMessage": "user not found"}
    with pytest.raises(VpbxRefused) as caught:
        await client.call_back("sip:nobody@d", "+79161234567")
    assert caught.value.result == "2"
    assert caught.value.result_message == "user not found"


async def test_a_reply_that_is_not_json_is_a_bad_reply(client, api):
    api.replies["call_info"] = b"<html>maintenance</html>"
    with pytest.raises(VpbxBadReply):
        await client.call_info("SID-1")


async def test_a_wrong_key_is_rejected_by_the_api(api, clock):
    wrong = VpbxConfig(client_id=CLIENT_ID, sign_key="0" * 32, api_url=api.url)
    async with VpbxClient(wrong, clock) as c:
        with pytest.raises(VpbxRejected) as caught:
            await c.call_info("SID-1")
    assert caught.value.status == 403
    assert api.refused == ["call_info"]
    assert "0" * 32 not in str(caught.value)


async def test_server_errors_are_unavailable(client, api):
    api.statuses["users_info"] = 502
    with pytest.raises(VpbxUnavailable, match="HTTP 502"):
        await client.users_info()


async def test_an_unreachable_api_is_unavailable(clock, unused_tcp_port):
    async with VpbxClient(config(f"http://127.0.0.1:{unused_tcp_port}"), clock) as c:
        with pytest.raises(VpbxUnavailable):
            await c.call_info("SID-1")


async def test_the_quota_stops_calls_before_they_leave(api, clock):
    registry = CollectorRegistry()
    metrics = VpbxMetrics.on(registry)
    async with VpbxClient(config(api.url), clock, metrics) as c:
        for _ in range(100):
            await c.call_info("SID-1")
        with pytest.raises(VpbxQuotaExhausted):
            await c.call_info("SID-1")
        clock.advance(36)
        await c.call_info("SID-1")
    assert len(api.received) == 101
    left = registry.get_sample_value(
        "telebridge_vpbx_quota_remaining", {"method": "call_info"}
    )
    assert left == 0
    exhausted = registry.get_sample_value(
        "telebridge_vpbx_api_calls_total",
        {"method": "call_info", "outcome": "quotaexhausted"},
    )
    assert exhausted == 1


async def test_nothing_is_sent_without_credentials(api, clock):
    async with VpbxClient(VpbxConfig(api_url=api.url), clock) as c:
        with pytest.raises(VpbxNotConfigured):
            await c.call_info("SID-1")
    assert api.received == []


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = tmp_path / "api.pem", tmp_path / "api.key"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.fixture
async def tls_api(certificate):
    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    fake = FakeRostelecomApi(CLIENT_ID, KEY)
    runner, url = await start(fake, context)
    try:
        yield fake, url, cert
    finally:
        await runner.cleanup()


async def test_tls_is_verified_against_the_system_store_by_default(tls_api, clock):
    _fake, url, _cert = tls_api
    async with VpbxClient(config(url), clock) as c:
        with pytest.raises(VpbxUnavailable, match="Certificate"):
            await c.call_info("SID-1")


async def test_tls_trusts_the_portals_certificate_when_given(tls_api, clock):
    fake, url, cert = tls_api
    async with VpbxClient(config(url, ca_file=str(cert)), clock) as c:
        await c.call_info("SID-1")
    assert len(fake.received) == 1


async def test_tls_verification_can_be_switched_off(tls_api, clock):
    fake, url, _cert = tls_api
    async with VpbxClient(config(url, verify_tls=False), clock) as c:
        await c.call_info("SID-1")
    assert json.loads(fake.received[0].raw) == {"session_id": "SID-1"}
