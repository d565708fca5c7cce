"""The zeep client of `miko_crm_api` against the fake 1C web service (real sockets).

The fake stands in for a 1C web-service publication: it serves the WSDL and SOAP 1.1
envelopes of the namespace http://wiki.miko.ru/uniphone:crmapi, and like 1C it needs
a session (cookie `ibsession`, opened by `IBSession: start`) besides Basic auth.
"""

from __future__ import annotations

import asyncio
import json
import socket

import pytest

from bridge.onec.demo.data import USERS
from bridge.onec.errors import OneCAuthError, OneCProtocolError, OneCUnavailable
from bridge.onec.soap import SoapMikoCrmApi, parse_user_list
from bridge.onec.web_service import CALL_EVENT_SUBJECT, MikoCrmApi
from tests.fakes.onec import PASSWORD, USERNAME, RunningOneC


async def connect(onec: RunningOneC, password: str = PASSWORD) -> SoapMikoCrmApi:
    return await SoapMikoCrmApi.connect(
        onec.soap_url, username=USERNAME, password=password, timeout_seconds=5
    )


async def test_call_event_reaches_1c_with_subject_and_json(onec):
    event = {"state": "Calling", "from": {"number": "79161234567"}, "call_id": "1.2"}
    async with await connect(onec) as api:
        client: MikoCrmApi = api
        await client.call_event(
            CALL_EVENT_SUBJECT, json.dumps(event, ensure_ascii=False)
        )
    async with asyncio.timeout(5):
        events = await onec.fake.wait_events(1)
    assert events == [(CALL_EVENT_SUBJECT, json.dumps(event, ensure_ascii=False))]


async def test_user_list_gives_users_with_extensions(onec):
    async with await connect(onec) as api:
        users = await api.user_list()
    expected = onec.infobase.sets[USERS]
    assert [u.user_id for u in users] == [u["Ref_Key"] for u in expected]
    assert users[0].extension == "201"
    assert users[0].name == expected[0]["Description"]


async def test_session_cookie_is_reused(onec):
    async with await connect(onec) as api:
        await api.user_list()
        sessions = len(onec.fake.sessions)
        before = onec.fake.requests
        await api.user_list()
        await api.call_event(CALL_EVENT_SUBJECT, "{}")
    assert onec.fake.requests - before == 2
    assert len(onec.fake.sessions) == sessions


async def test_expired_session_is_restarted_once(onec):
    async with await connect(onec) as api:
        await api.user_list()
        onec.fake.expire_sessions()
        before = onec.fake.requests
        await api.call_event(CALL_EVENT_SUBJECT, "{}")
    assert onec.fake.requests - before == 2  # refused, then IBSession: start
    assert len(onec.fake.events) == 1


async def test_a_bom_in_the_answer_is_tolerated(onec):
    onec.fake.faults.bom = True
    async with await connect(onec) as api:
        assert len(await api.user_list()) == len(onec.infobase.sets[USERS])


async def test_wrong_password_is_an_auth_error_at_connect(onec):
    before = onec.fake.requests
    with pytest.raises(OneCAuthError, match="401"):
        await connect(onec, password="wrong")
    assert onec.fake.requests - before == 1


async def test_auth_revoked_later_is_an_auth_error_without_storm(onec):
    async with await connect(onec) as api:
        onec.fake.password = "changed"
        before = onec.fake.requests
        with pytest.raises(OneCAuthError):
            await api.call_event(CALL_EVENT_SUBJECT, "{}")
    assert onec.fake.requests - before == 1


async def test_1c_failing_twice_is_unavailable(onec):
    async with await connect(onec) as api:
        onec.fake.faults.fail_next = [500, 500]
        with pytest.raises(OneCUnavailable, match="500"):
            await api.call_event(CALL_EVENT_SUBJECT, "{}")
        # and it recovers by itself once 1C does
        await api.call_event(CALL_EVENT_SUBJECT, "{}")
    assert len(onec.fake.events) == 1


async def test_unreachable_1c_is_unavailable():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(OneCUnavailable):
        await SoapMikoCrmApi.connect(
            f"http://127.0.0.1:{port}/base/ws/miko_crm_api.1cws",
            username="u",
            password="p",
        )


def test_user_list_rows_repeat_per_mobile_and_are_merged():
    text = "\ufeff" + json.dumps(
        [
            {"id": "a", "name": "Иванов", "extension": "201", "mobile": "7916"},
            {"id": "a", "name": "Иванов", "extension": "201", "mobile": "7925"},
            {"id": "", "extension": "999"},
            {"id": "b", "extension": "202"},
        ]
    )
    users = parse_user_list(text)
    assert [(u.user_id, u.extension) for u in users] == [("a", "201"), ("b", "202")]


def test_user_list_that_is_not_json_is_a_protocol_error():
    with pytest.raises(OneCProtocolError):
        parse_user_list("<html>")
