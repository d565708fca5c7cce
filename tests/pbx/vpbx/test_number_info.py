"""get_number_info answers from local data within its budget, else the empty reply."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from prometheus_client import CollectorRegistry

from bridge.contacts import ContactDirectory, ContactMatch, ContactOwner
from bridge.phone_numbers import PhoneNumber
from bridge.routing import Router
from pbx.vpbx.metrics import VpbxMetrics
from pbx.vpbx.models import NumberInfoRequest
from pbx.vpbx.number_info import EMPTY_REPLY, NumberInfo

OWNER = ContactOwner("ref-1", "Catalog_Контрагенты", "Петров П.", "", "ООО Ромашка")


class Directory:
    def __init__(self, known: dict[str, ContactMatch]) -> None:
        self.known = known
        self.asked: list[str] = []

    async def lookup(self, number: str) -> ContactMatch | None:
        self.asked.append(number)
        return self.known.get(number)


class FixedRouter:
    def __init__(self, pin: str | None) -> None:
        self.pin = pin
        self.asked: list[tuple[str, str]] = []

    async def route(self, caller: PhoneNumber, called: PhoneNumber) -> str | None:
        self.asked.append((caller.canonical, called.canonical))
        return self.pin


class Stuck:
    """A source that never answers (a locked database, a hung lookup)."""

    def __init__(self) -> None:
        self.never = asyncio.Event()

    async def lookup(self, number: str) -> ContactMatch | None:
        await self.never.wait()
        return None


class Broken:
    async def lookup(self, number: str) -> ContactMatch | None:
        raise RuntimeError("index unavailable")


@dataclass
class Sources:
    contacts: ContactDirectory | None = None
    router: Router | None = None


def request(from_number: str = "8 (916) 123-45-67") -> NumberInfoRequest:
    return NumberInfoRequest(
        domain="d.cloudpbx.rt.ru", from_number=from_number, request_number="74951234567"
    )


def service(sources: Sources, clock, registry=None, budget: float = 1.5) -> NumberInfo:
    metrics = VpbxMetrics.on(registry) if registry is not None else None
    return NumberInfo(sources, budget, clock, metrics)


async def test_a_known_caller_gets_a_display_name_and_usual_routing(clock):
    directory = Directory({"+79161234567": ContactMatch("+79161234567", (OWNER,))})
    reply = await service(Sources(contacts=directory), clock).answer(request())
    assert reply.as_json() == {
        "result": "0",
        "resultMessage": "",
        "displayName": "Петров П. (ООО Ромашка)",
    }
    assert directory.asked == ["+79161234567"]


async def test_a_routed_caller_goes_to_the_pin(clock):
    directory = Directory({"+79161234567": ContactMatch("+79161234567", (OWNER,))})
    router = FixedRouter("201")
    sources = Sources(contacts=directory, router=router)
    reply = await service(sources, clock).answer(request())
    assert reply.as_json()["result"] == "1"
    assert reply.as_json()["PIN"] == "201"
    assert reply.display_name == "Петров П. (ООО Ромашка)"
    assert router.asked == [("+79161234567", "+74951234567")]


async def test_an_unknown_caller_gets_the_empty_reply(clock):
    sources = Sources(contacts=Directory({}), router=FixedRouter(None))
    reply = await service(sources, clock).answer(request())
    assert reply == EMPTY_REPLY
    assert "PIN" not in reply.as_json()
    assert reply.as_json()["displayName"] == ""


async def test_without_any_source_the_pbx_routes_by_its_own_rules(clock):
    assert await service(Sources(), clock).answer(request()) == EMPTY_REPLY


async def test_a_hidden_number_is_not_looked_up(clock):
    directory = Directory({})
    reply = await service(Sources(contacts=directory), clock).answer(
        request("anonymous")
    )
    assert reply == EMPTY_REPLY
    assert directory.asked == []


async def test_a_lookup_over_budget_gets_the_empty_reply(clock):
    registry = CollectorRegistry()
    sources = Sources(contacts=Stuck())
    reply = await service(sources, clock, registry, budget=0.01).answer(request())
    assert reply == EMPTY_REPLY
    counted = registry.get_sample_value(
        "telebridge_vpbx_number_info_total", {"outcome": "timeout"}
    )
    assert counted == 1


async def test_a_failing_lookup_gets_the_empty_reply(clock):
    registry = CollectorRegistry()
    reply = await service(Sources(contacts=Broken()), clock, registry).answer(request())
    assert reply == EMPTY_REPLY
    counted = registry.get_sample_value(
        "telebridge_vpbx_number_info_total", {"outcome": "error"}
    )
    assert counted == 1


async def test_a_failing_router_still_leaves_the_display_name(clock):
    class BrokenRouter:
        async def route(self, caller: PhoneNumber, called: PhoneNumber) -> str | None:
            raise RuntimeError("routing table unavailable")

    owner = ContactOwner("ref-1", "Catalog_Контрагенты", "ООО Ромашка")
    directory = Directory({"+79161234567": ContactMatch("+79161234567", (owner,))})
    sources = Sources(contacts=directory, router=BrokenRouter())
    reply = await service(sources, clock).answer(request())
    assert reply.display_name == "ООО Ромашка"
    assert reply.result == "0"
