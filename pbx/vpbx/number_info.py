"""get_number_info: the display name and, once routing exists, the employee PIN.

The PBX waits only its configured «Таймаут, сек» for us, so the answer comes from
local data within a budget; anything slower, failing or unknown gets the empty
reply, on which the PBX shows no name and routes by its own rules.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Protocol

from bridge.clock import Clock
from bridge.contacts import ContactDirectory
from bridge.phone_numbers import PhoneNumber, normalize
from bridge.routing import Router
from pbx.vpbx.metrics import VpbxMetrics
from pbx.vpbx.models import RESULT_ROUTE_TO_PIN, NumberInfoReply, NumberInfoRequest

log = logging.getLogger(__name__)
# The reply that hands the call back to the PBX's own routing.
EMPTY_REPLY = NumberInfoReply(result_message="no information")


class Sources(Protocol):
    """Where answers come from, looked up per request (`Core` is one): the
    features providing them may be set up after this one."""

    @property
    def contacts(self) -> ContactDirectory | None: ...

    @property
    def router(self) -> Router | None: ...


@dataclass(frozen=True, slots=True)
class NumberInfo:
    sources: Sources
    budget_seconds: float
    clock: Clock
    metrics: VpbxMetrics | None = None

    async def answer(self, request: NumberInfoRequest) -> NumberInfoReply:
        started = self.clock.monotonic()
        try:
            async with asyncio.timeout(self.budget_seconds):
                reply, outcome = await self._lookup(request)
        except TimeoutError:
            log.warning("get_number_info over its %.2fs budget", self.budget_seconds)
            reply, outcome = EMPTY_REPLY, "timeout"
        except Exception:  # the PBX must get an answer whatever broke
            log.exception("get_number_info lookup failed")
            reply, outcome = EMPTY_REPLY, "error"
        if self.metrics is not None:
            self.metrics.number_info.labels(outcome).inc()
            elapsed = self.clock.monotonic() - started
            self.metrics.number_info_seconds.observe(elapsed)
        return reply

    async def _lookup(self, request: NumberInfoRequest) -> tuple[NumberInfoReply, str]:
        caller = normalize(request.from_number)
        called = normalize(request.request_number)
        name, pin = await asyncio.gather(
            self._name(caller), self._route(caller, called), return_exceptions=True
        )
        # One source failing must not take the other's answer with it.
        failed = False
        if isinstance(pin, BaseException):
            log.error("get_number_info routing failed", exc_info=pin)
            pin, failed = None, True
        if isinstance(name, BaseException):
            log.error("get_number_info contact lookup failed", exc_info=name)
            name, failed = "", True
        if pin:
            return NumberInfoReply(
                result=RESULT_ROUTE_TO_PIN, display_name=name, pin=pin
            ), "pin"
        if name:
            return NumberInfoReply(display_name=name), "name"
        return EMPTY_REPLY, "error" if failed else "empty"

    async def _name(self, caller: PhoneNumber) -> str:
        contacts = self.sources.contacts
        if contacts is None or not caller.canonical:
            return ""
        match = await contacts.lookup(caller.canonical)
        return match.display_name if match else ""

    async def _route(self, caller: PhoneNumber, called: PhoneNumber) -> str | None:
        router = self.sources.router
        if router is None or not caller.canonical:
            return None
        return await router.route(caller, called)
