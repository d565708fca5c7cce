"""Creating 1C objects over OData (POST), against the fake 1C over real sockets."""

from __future__ import annotations

import socket

import pytest

from bridge.onec.demo.data import PHONE_CALLS
from bridge.onec.errors import ODataError, OneCUnavailable, OneCUnreachable
from bridge.onec.odata import ODataClient
from tests.fakes.onec import NO_WAIT, RunningOneC

CALL = {
    "Date": "2026-03-02T10:15:00",
    "Входящий": True,
    "АбонентКакСвязаться": "+79161234567",
    "Тема": "Входящий звонок",
}


async def test_a_created_document_comes_back_with_its_new_ref(onec: RunningOneC):
    async with onec.client() as client:
        created = await client.create(PHONE_CALLS, {**CALL, "НетТакогоПоля": 1})
    stored = onec.infobase.find(PHONE_CALLS, created["Ref_Key"])
    assert stored is not None
    assert stored["Тема"] == "Входящий звонок"
    assert stored["Входящий"] is True
    assert created["Number"]  # autonumbered by 1C
    assert "НетТакогоПоля" not in stored  # unknown properties are ignored


async def test_a_wrong_value_is_an_odata_error_and_creates_nothing(
    onec: RunningOneC,
):
    before = len(onec.infobase.sets[PHONE_CALLS])
    async with onec.client() as client:
        with pytest.raises(ODataError) as caught:
            await client.create(PHONE_CALLS, {**CALL, "Ответственный_Key": "nobody"})
    assert caught.value.code == "4"
    assert "Ответственный_Key" in str(caught.value)
    assert len(onec.infobase.sets[PHONE_CALLS]) == before


async def test_a_create_that_got_a_5xx_is_not_repeated(onec: RunningOneC):
    onec.fake.faults.fail_next = [503]
    before = onec.fake.requests
    async with onec.client() as client:
        with pytest.raises(OneCUnavailable, match="503"):
            await client.create(PHONE_CALLS, CALL)
    assert onec.fake.requests - before == 1


async def test_a_lost_answer_is_unavailable_not_unreachable(onec: RunningOneC):
    """The object exists but the client cannot know: it must not retry blindly."""
    onec.fake.faults.lose_answers = 1
    before = len(onec.infobase.sets[PHONE_CALLS])
    async with onec.client() as client:
        with pytest.raises(OneCUnavailable) as caught:
            await client.create(PHONE_CALLS, CALL)
    assert not isinstance(caught.value, OneCUnreachable)
    assert len(onec.infobase.sets[PHONE_CALLS]) == before + 1


async def test_a_refused_connection_is_unreachable():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/base/odata/standard.odata/"
    async with ODataClient(url, username="u", password="p", retry=NO_WAIT) as client:
        with pytest.raises(OneCUnreachable):
            await client.create(PHONE_CALLS, CALL)
