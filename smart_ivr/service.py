"""Answering the PBX at call time: the caller's menu, its audio, and the fallbacks.

One indexed read of the routing table (never a live 1C call), then the prompt from
the TTS cache, all under one deadline. Past the deadline, or when data or TTS fail,
the answer is the emergency destination: the caller is never left without one.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, Histogram

from bridge.clock import Clock
from bridge.contacts import ContactDirectory
from bridge.phone_numbers import normalize
from jobs.routing_table.ranking import ClientRanking
from pbx.base import ExtensionStates
from smart_ivr.availability import Availability
from smart_ivr.menu import Destinations, Employee, LastTalk, Menu, Phrases, build_menu

log = logging.getLogger(__name__)


class Fallback(enum.StrEnum):
    DEADLINE = "deadline"
    DATA = "data-unavailable"
    TTS = "tts-unavailable"


@dataclass(frozen=True, slots=True)
class PromptAudio:
    path: str  # for Asterisk: the file without extension
    url: str


@dataclass(frozen=True, slots=True)
class IvrAnswer:
    menu: Menu
    prompt: PromptAudio | None
    fallback: Fallback | None = None

    @property
    def destination_now(self) -> str | None:
        """Where to send the call without playing anything (fallback cases)."""
        return self.menu.destinations.emergency if self.fallback else None


class RoutingReader(Protocol):
    async def ranking(self, client: str, *same: str) -> ClientRanking | None:
        """Employees ranked for `client`, counting the other keys of the same
        caller (`same`) with it; None when nobody is tied to them."""
        ...


class EmployeeDirectory(Protocol):
    async def lookup(self, ids: Sequence[str]) -> Mapping[str, Employee]:
        """These employees (ids are extensions), with their spoken names."""
        ...


class LastTalks(Protocol):
    async def last_talk(self, number: str, since: datetime) -> LastTalk | None:
        """Who last had an answered call with `number` after `since`, if anyone."""
        ...


class PromptSynthesizer(Protocol):
    async def prompt(self, fragments: Sequence[str]) -> PromptAudio:
        """The whole greeting as one file; raises on TTS failure."""
        ...


@dataclass(frozen=True, slots=True)
class IvrSettings:
    phrases: Phrases
    destinations: Destinations
    max_entries: int
    deadline_seconds: float
    last_responsible_minutes: int


class IvrService:
    def __init__(
        self,
        settings: IvrSettings,
        routing: RoutingReader,
        employees: EmployeeDirectory,
        availability: Availability,
        clock: Clock,
        registry: CollectorRegistry,
        *,
        contacts: ContactDirectory | None = None,
        states: ExtensionStates | None = None,
        last_talks: LastTalks | None = None,
        tts: PromptSynthesizer | None = None,
    ) -> None:
        self._settings = settings
        self._routing = routing
        self._employees = employees
        self._availability = availability
        self._clock = clock
        self._contacts = contacts
        self._states = states
        self._last_talks = last_talks
        self._tts = tts
        self._fallbacks = Counter(
            "telebridge_ivr_fallbacks",
            "IVR answers that fell back to the emergency destination, by cause",
            ["cause"],
            registry=registry,
        )
        self._latency = Histogram(
            "telebridge_ivr_answer_seconds",
            "Time to answer the PBX with a menu",
            registry=registry,
        )

    async def answer(self, number: str, did: str = "") -> IvrAnswer:
        started = self._clock.monotonic()
        try:
            async with asyncio.timeout(self._settings.deadline_seconds):
                return await self._answer(number)
        except TimeoutError:
            return self._fallback(number, Fallback.DEADLINE)
        finally:
            self._latency.observe(self._clock.monotonic() - started)

    async def menu(self, number: str) -> Menu:
        """The menu alone (no audio): for previews and the MIKO-compatible text API."""
        now = self._clock.now()
        ranking = await self._ranking(number)
        last_talk = await self._last_talk(number, now)
        ids = [r.employee for r in ranking.employees] if ranking else []
        if last_talk is not None:
            ids.append(last_talk.employee)
        staff = await self._employees.lookup(ids)
        return build_menu(
            number,
            ranking,
            staff,
            lambda employee: self._unavailable(employee, staff, now),
            phrases=self._settings.phrases,
            destinations=self._settings.destinations,
            max_entries=self._settings.max_entries,
            last_talk=last_talk,
        )

    async def _answer(self, number: str) -> IvrAnswer:
        try:
            menu = await self.menu(number)
        except Exception:
            log.exception("IVR data unavailable for a caller")
            return self._fallback(number, Fallback.DATA)
        if self._tts is None:
            return IvrAnswer(menu, None)
        try:
            prompt = await self._tts.prompt(menu.fragments)
        except Exception:
            log.exception("IVR prompt synthesis failed")
            return self._fallback(number, Fallback.TTS, menu)
        return IvrAnswer(menu, prompt)

    async def _ranking(self, number: str) -> ClientRanking | None:
        parsed = normalize(number)
        if not parsed.is_external:
            return None
        ranking = await self._routing.ranking(
            *await self._client_keys(parsed.canonical)
        )
        return ranking if ranking is not None and ranking.employees else None

    async def _client_keys(self, canonical: str) -> list[str]:
        """The caller's client as the routing table keys it: its 1C owners, then
        the number itself (calls made before an owner was known rank by number);
        the first names the ranking, all of them count."""
        keys: list[str] = []
        if self._contacts is not None:
            match = await self._contacts.lookup(canonical)
            if match is not None:
                keys.extend(owner.ref for owner in match.owners)
        keys.append(canonical)
        return keys

    async def _last_talk(self, number: str, now: datetime) -> LastTalk | None:
        minutes = self._settings.last_responsible_minutes
        if self._last_talks is None or minutes <= 0:
            return None
        parsed = normalize(number)
        if not parsed.is_external:
            return None
        return await self._last_talks.last_talk(
            parsed.canonical, now - timedelta(minutes=minutes)
        )

    def _unavailable(
        self, employee: str, staff: Mapping[str, Employee], now: datetime
    ) -> str | None:
        person = staff.get(employee)
        live = None
        if self._states is not None and person is not None:
            live = self._states.get(person.extension)
        return self._availability.unavailable_reason(employee, now, live)

    def _fallback(
        self, number: str, cause: Fallback, menu: Menu | None = None
    ) -> IvrAnswer:
        self._fallbacks.labels(cause.value).inc()
        log.warning("IVR falls back to the emergency destination: %s", cause.value)
        empty = Menu(
            number=number,
            new_client=menu.new_client if menu else True,
            entries=(),
            fragments=(),
            destinations=self._settings.destinations,
        )
        return IvrAnswer(empty, None, cause)
