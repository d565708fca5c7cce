"""Configured 1C document types feeding the routing table.

1C is the fake publication (`bridge.onec.demo`): the standard OData interface as
1C documents it, with БСП's `Document_ТелефонныйЗвонок` (a user in
`Ответственный_Key`, a counterparty in `АбонентКонтакт`) standing in for any type an
admin configures.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bridge.clock import FakeClock
from bridge.config import Config, ConfigError, load_config
from bridge.onec.demo.data import PHONE_CALLS
from bridge.onec.documents import EMPTY_REF
from bridge.onec.staff import Staff
from bridge.onec.users import extension_of
from bridge.storage.database import Database
from jobs.base import JobContext
from jobs.routing_table.config import DocumentTypeConfig
from jobs.routing_table.job import RoutingTableJob
from jobs.routing_table.onec_source import OneCDocuments
from jobs.routing_table.store import RoutingStore
from jobs.routing_table.table import RoutingTable
from tests.fakes.onec import RunningOneC, serving

MSK = ZoneInfo("Europe/Moscow")
NOW = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)  # the fake's calls: Jan 1-2, 2026
DOCS = DocumentTypeConfig(
    name="phone_docs",
    entity=PHONE_CALLS,
    client_field="АбонентКонтакт",
    employee_field="Ответственный_Key",
    weight=2,
    validity_days=30,
)


@pytest.fixture
async def onec() -> AsyncIterator[RunningOneC]:
    async with serving() as running:
        yield running


def source(onec: RunningOneC, clock: FakeClock) -> OneCDocuments:
    return OneCDocuments(DOCS, onec.client, MSK, clock, page_size=7)


def countable(onec: RunningOneC) -> list[dict[str, object]]:
    return [
        c
        for c in onec.infobase.sets[PHONE_CALLS]
        if not c["DeletionMark"]
        and c["АбонентКонтакт"] != EMPTY_REF
        and c["Ответственный_Key"] != EMPTY_REF
    ]


async def test_every_document_is_read_once_then_only_new_ones(
    onec: RunningOneC,
) -> None:
    docs = source(onec, FakeClock(NOW))
    batches = [b async for b in docs.read("")]
    read = [i for b in batches for i in b.interactions]
    calls = countable(onec)
    assert len(calls) >= 20
    assert [(d.client, d.employee) for d in read] == [
        (c["АбонентКонтакт"], c["Ответственный_Key"]) for c in calls
    ]
    assert read[0].at == datetime.fromisoformat(str(calls[0]["Date"])).replace(
        tzinfo=MSK
    )
    assert {d.doc_type for d in read} == {"phone_docs"}
    assert all(len(b.interactions) == 7 for b in batches[:-1])
    assert [b async for b in docs.read(batches[-1].position)] == []

    later = dict(calls[-1], Ref_Key="ffffffff-0000-4000-8000-000000000001")
    later["Date"] = "2026-01-09T10:00:00"
    later["DataVersion"] = onec.infobase.next_version()  # as 1C records it
    onec.infobase.sets[PHONE_CALLS].append(later)
    newer = [b async for b in docs.read(batches[-1].position)]
    assert [len(b.interactions) for b in newer] == [1]
    assert newer[0].interactions[0].at == datetime(2026, 1, 9, 10, tzinfo=MSK)


async def test_the_first_read_starts_one_validity_back(onec: RunningOneC) -> None:
    clock = FakeClock(datetime(2026, 1, 31, 21, 0, tzinfo=UTC))  # Feb 1, 00:00 MSK
    read = [
        i
        for b in [b async for b in source(onec, clock).read("")]
        for i in b.interactions
    ]
    cutoff = datetime(2026, 1, 2, 0, 0, tzinfo=MSK)
    assert read
    assert all(d.at >= cutoff for d in read)
    assert len(read) == sum(
        1
        for c in countable(onec)
        if datetime.fromisoformat(str(c["Date"])).replace(tzinfo=MSK) >= cutoff
    )


async def test_users_and_extensions_of_one_person_add_up(
    onec: RunningOneC, db: Database
) -> None:
    """Documents name 1C users, calls name extensions: the table ranks both under
    the extension, with the type's weight."""
    clock = FakeClock(NOW)
    store = RoutingStore(db)
    job = RoutingTableJob(
        store, [source(onec, clock)], {"phone_docs": DOCS.document_type()}, clock
    )
    await job(JobContext("routing_table", NOW))
    config = Config().onec
    staff = Staff()
    async with onec.client() as client:
        await staff.refresh(client, config)

    async def nobody() -> frozenset[str]:
        return frozenset()

    table = RoutingTable(
        store, {"phone_docs": DOCS.document_type()}, clock, nobody, staff.employee_id
    )
    users = {
        u["Ref_Key"]: extension_of(u, config)
        for u in onec.infobase.sets["Catalog_Пользователи"]
    }
    calls = countable(onec)
    busiest = Counter(c["АбонентКонтакт"] for c in calls).most_common(1)[0][0]
    expected = Counter(
        users[c["Ответственный_Key"]] for c in calls if c["АбонентКонтакт"] == busiest
    )
    ranking = await table.ranking(str(busiest))
    assert ranking is not None
    assert {r.employee: r.score for r in ranking.employees} == {
        ext: 2.0 * n for ext, n in expected.items()
    }


def test_document_types_without_1c_are_refused_at_start(tmp_path: Path) -> None:
    config = tmp_path / "telebridge.toml"
    config.write_text(
        """
[[routing.document_types]]
name = "orders"
entity = "Document_ЗаказКлиента"
client_field = "Контрагент_Key"
employee_field = "Менеджер_Key"
weight = 5.0
validity_days = 30
""",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        load_config(config)
    assert caught.value.key == "routing.document_types"
    assert "onec.odata_url" in caught.value.reason
