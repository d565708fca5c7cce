"""The OData client against the fake 1C publication, over real sockets."""

from __future__ import annotations

import asyncio
import socket

import pytest

from bridge.onec import literals
from bridge.onec.demo.data import COUNTERPARTIES
from bridge.onec.errors import (
    ODataError,
    OneCAuthError,
    OneCProtocolError,
    OneCUnavailable,
)
from bridge.onec.literals import Query
from bridge.onec.odata import ODataClient
from tests.fakes.onec import NO_WAIT, PASSWORD, USERNAME, RunningOneC

BY_REF = Query(select=["Ref_Key", "Description"], orderby=["Ref_Key"])


async def test_metadata_is_the_v3_document_of_the_publication(onec: RunningOneC):
    async with onec.client() as client:
        text = await client.metadata()
    assert 'Namespace="StandardODATA"' in text
    assert 'EntityContainer Name="EnterpriseV8"' in text
    assert (
        "Collection(StandardODATA.Catalog_Контрагенты_КонтактнаяИнформация_RowType)"
        in text
    )


async def test_filtered_select_returns_only_matching_fields(onec: RunningOneC):
    target = onec.infobase.sets[COUNTERPARTIES][5]
    query = Query(
        filter=literals.compare("Ref_Key", "eq", literals.guid(target["Ref_Key"])),
        select=["Ref_Key", "Description"],
    )
    async with onec.client() as client:
        rows = await client.get(COUNTERPARTIES, query)
    assert rows == [
        {"Ref_Key": target["Ref_Key"], "Description": target["Description"]}
    ]


async def test_tabular_parts_arrive_as_collections(onec: RunningOneC):
    async with onec.client() as client:
        rows = await client.get(
            COUNTERPARTIES, Query(select=["Ref_Key", "КонтактнаяИнформация"], top=3)
        )
    assert all(isinstance(r["КонтактнаяИнформация"], list) for r in rows)
    assert rows[0]["КонтактнаяИнформация"][0]["LineNumber"] == "1"


async def test_pages_cover_the_set_once_in_order(onec: RunningOneC):
    async with onec.client() as client:
        pages = [p async for p in client.pages(COUNTERPARTIES, BY_REF, page_size=25)]
    refs = [r["Ref_Key"] for page in pages for r in page]
    expected = sorted(e["Ref_Key"] for e in onec.infobase.sets[COUNTERPARTIES])
    assert refs == expected
    assert [len(p) for p in pages] == [25, 25, 25, 25, 20]


async def test_a_bom_before_the_json_is_tolerated(onec: RunningOneC):
    onec.fake.faults.bom = True
    async with onec.client() as client:
        rows = await client.get(COUNTERPARTIES, Query(top=2))
    assert len(rows) == 2


async def test_wrong_password_is_an_auth_error_without_retries(onec: RunningOneC):
    before = onec.fake.requests
    async with onec.client(password="wrong") as client:
        with pytest.raises(OneCAuthError, match="401") as caught:
            await client.get(COUNTERPARTIES)
    assert onec.fake.requests - before == 1
    assert "wrong" not in str(caught.value)


async def test_transient_failure_is_retried_then_served(onec: RunningOneC):
    onec.fake.faults.fail_next = [503, 500]
    async with onec.client() as client:
        rows = await client.get(COUNTERPARTIES, Query(top=1))
    assert len(rows) == 1


async def test_a_down_1c_gives_up_after_the_attempts(onec: RunningOneC):
    onec.fake.faults.down = True
    before = onec.fake.requests
    async with onec.client() as client:
        with pytest.raises(OneCUnavailable, match="503"):
            await client.get(COUNTERPARTIES)
    assert onec.fake.requests - before == NO_WAIT.attempts


async def test_odata_error_carries_1c_code_and_message(onec: RunningOneC):
    async with onec.client() as client:
        with pytest.raises(ODataError) as caught:
            await client.get(COUNTERPARTIES, Query(filter="length(Description) eq 1"))
    assert caught.value.code == "14"
    assert caught.value.status == 400
    assert "Ошибка разбора" in str(caught.value)


async def test_unknown_entity_set_is_an_odata_error(onec: RunningOneC):
    async with onec.client() as client:
        with pytest.raises(ODataError) as caught:
            await client.get("Catalog_НетТакого")
    assert caught.value.code == "8"


async def test_refused_connection_is_unavailable():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/base/odata/standard.odata/"
    async with ODataClient(url, username="u", password="p", retry=NO_WAIT) as client:
        with pytest.raises(OneCUnavailable, match="unreachable"):
            await client.get(COUNTERPARTIES)


async def test_an_answer_that_is_not_odata_json_is_a_protocol_error(onec: RunningOneC):
    async with onec.client() as client:
        with pytest.raises(OneCProtocolError, match="not JSON"):
            await client._get_json("$metadata", Query())


async def test_a_hanging_1c_times_out_as_unavailable(onec: RunningOneC):
    onec.fake.faults.hang = release = asyncio.Event()
    client = ODataClient(
        onec.odata_url, username=USERNAME, password=PASSWORD, timeout=0.2, retry=NO_WAIT
    )
    try:
        async with client:
            with pytest.raises(OneCUnavailable, match="TimeoutError"):
                await client.get(COUNTERPARTIES)
    finally:
        release.set()
