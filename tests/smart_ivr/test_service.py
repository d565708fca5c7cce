"""Call-time answers: one read of the routing table, availability, fallbacks."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from prometheus_client import CollectorRegistry

from bridge.clock import FakeClock
from bridge.contacts import ContactMatch, ContactOwner
from bridge.storage.database import Database
from jobs.routing_table.ranking import DocumentType, Interaction
from jobs.routing_table.store import RoutingStore
from jobs.routing_table.table import RoutingTable
from pbx.base import ExtensionState
from smart_ivr.availability import Availability
from smart_ivr.menu import Destinations, Employee, LastTalk, Phrases
from smart_ivr.service import Fallback, IvrService, IvrSettings, PromptAudio

NOW = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)  # a Wednesday, 12:00 in Moscow
TYPES = {"calls": DocumentType("calls", 1.0, timedelta(days=90))}
STAFF = {
    "201": Employee("201", "Анна Иванова", "201"),
    "202": Employee("202", "Борис Петров", "202"),
    "203": Employee("203", "Вера Сидорова", "203"),
}
SETTINGS = IvrSettings(
    phrases=Phrases(),
    destinations=Destinations(default="100", emergency="999"),
    max_entries=3,
    deadline_seconds=0.5,
    last_responsible_minutes=30,
)


class Staff:
    async def lookup(self, ids: Sequence[str]) -> Mapping[str, Employee]:
        return {i: STAFF[i] for i in ids if i in STAFF}


class Tts:
    def __init__(self, fail: bool = False, hang: bool = False) -> None:
        self.fail, self.hang = fail, hang
        self.asked: list[tuple[str, ...]] = []

    async def prompt(self, fragments: Sequence[str]) -> PromptAudio:
        self.asked.append(tuple(fragments))
        if self.hang:
            await asyncio.Event().wait()
        if self.fail:
            raise RuntimeError("provider down")
        return PromptAudio("/data/ivr/abc", "http://bridge/api/v1/ivr/prompts/abc.wav")


class Contacts:
    async def lookup(self, number: str) -> ContactMatch | None:
        if number == "+74950000001":
            owner = ContactOwner("ref-romashka", "Catalog_Контрагенты", "ООО Ромашка")
            return ContactMatch(number, (owner,))
        return None


class States:
    def __init__(self, states: dict[str, ExtensionState]) -> None:
        self.states = states

    def get(self, extension: str) -> ExtensionState:
        return self.states.get(extension, ExtensionState.UNKNOWN)

    def snapshot(self) -> dict[str, ExtensionState]:
        return dict(self.states)


class Talks:
    async def last_talk(self, number: str, since: datetime) -> LastTalk | None:
        return LastTalk("203", 5) if number == "+79160000009" else None


async def nobody() -> frozenset[str]:
    return frozenset()


@pytest.fixture
async def store(db: Database) -> RoutingTable:
    store = RoutingStore(db)
    day = NOW - timedelta(days=1)
    docs = [
        Interaction("+79160000009", "201", "calls", day, count=3),
        Interaction("+79160000009", "202", "calls", day, count=2),
        Interaction("+79160000009", "203", "calls", day, count=1),
        Interaction("ref-romashka", "202", "calls", day, count=4),
    ]
    await store.add(docs)
    return RoutingTable(store, TYPES, FakeClock(NOW), nobody)


def service(store: RoutingTable, **kw):
    availability = kw.pop("availability", Availability(ZoneInfo("Europe/Moscow")))
    return IvrService(
        SETTINGS,
        store,
        Staff(),
        availability,
        FakeClock(NOW),
        CollectorRegistry(),
        **kw,
    )


async def test_known_caller_gets_ranked_menu_and_prompt(store: RoutingTable) -> None:
    tts = Tts()
    answer = await service(store, tts=tts).answer("8 (916) 000-00-09")
    assert [e.extension for e in answer.menu.entries] == ["201", "202", "203"]
    assert answer.prompt is not None
    assert answer.fallback is None
    assert tts.asked == [answer.menu.fragments]


async def test_caller_owned_by_a_1c_client_gets_the_clients_ranking(
    store: RoutingTable,
) -> None:
    answer = await service(store, contacts=Contacts()).answer("+7 495 000-00-01")
    assert [e.extension for e in answer.menu.entries] == ["202"]


async def test_calls_from_before_the_owner_was_known_still_count(db: Database) -> None:
    """Calls the journal kept under the bare number (no 1C owner yet) add to the
    owner's documents: one caller, one ranking."""
    store = RoutingStore(db)
    day = NOW - timedelta(days=1)
    await store.add(
        [
            Interaction("+74950000001", "201", "calls", day, count=3),
            Interaction("+74950000001", "203", "calls", day, count=1),
            Interaction("ref-romashka", "202", "calls", day, count=2),
            Interaction("ref-romashka", "203", "calls", day, count=1),
        ]
    )
    table = RoutingTable(store, TYPES, FakeClock(NOW), nobody)
    answer = await service(table, contacts=Contacts()).answer("+74950000001")
    assert [(e.extension, e.score) for e in answer.menu.entries] == [
        ("201", 3.0),
        ("202", 2.0),
        ("203", 2.0),
    ]


@pytest.mark.parametrize("number", ["+79990000000", "", "not a number", "201"])
async def test_unknown_or_malformed_number_gets_the_new_client_menu(
    store: RoutingTable, number: str
) -> None:
    answer = await service(store, tts=Tts()).answer(number)
    assert answer.menu.new_client
    assert answer.fallback is None
    assert answer.menu.fragments == (Phrases().new_client,)


async def test_unavailable_phone_is_not_offered(store: RoutingTable) -> None:
    states = States({"201": ExtensionState.UNAVAILABLE, "202": ExtensionState.BUSY})
    answer = await service(store, states=states).answer("+79160000009")
    assert [e.extension for e in answer.menu.entries] == ["202", "203"]


async def test_last_responsible_comes_first(store: RoutingTable) -> None:
    answer = await service(store, last_talks=Talks()).answer("+79160000009")
    assert [e.extension for e in answer.menu.entries] == ["203", "201", "202"]


async def test_tts_failure_falls_back_to_emergency(store: RoutingTable) -> None:
    registry = CollectorRegistry()
    svc = IvrService(
        SETTINGS,
        store,
        Staff(),
        Availability(ZoneInfo("UTC")),
        FakeClock(NOW),
        registry,
        tts=Tts(fail=True),
    )
    answer = await svc.answer("+79160000009")
    assert answer.fallback is Fallback.TTS
    assert answer.destination_now == "999"
    assert (
        registry.get_sample_value(
            "telebridge_ivr_fallbacks_total", {"cause": "tts-unavailable"}
        )
        == 1.0
    )


async def test_deadline_passing_falls_back_to_emergency(store: RoutingTable) -> None:
    answer = await service(store, tts=Tts(hang=True)).answer("+79160000009")
    assert answer.fallback is Fallback.DEADLINE
    assert answer.destination_now == "999"


async def test_data_failure_falls_back_to_emergency(store: RoutingTable) -> None:
    class Broken:
        async def ranking(self, client: str) -> None:
            raise ConnectionError("database is gone")

    answer = await service(Broken()).answer("+79160000009")  # type: ignore[arg-type]
    assert answer.fallback is Fallback.DATA
    assert answer.destination_now == "999"
