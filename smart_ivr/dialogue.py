"""The caller's side of the menu, as a pure state machine the FastAGI hook drives.

The hook answers the channel only once the prompt is ready, then asks this object
what to do after each key press. Two incumbent defects are designed out: every
attempt counts (invalid keys cannot extend the loop forever), and a destination that
does not resolve goes to the configured last resort instead of hanging up.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from smart_ivr.menu import Menu


class RouteReason(enum.StrEnum):
    CHOSEN = "chosen"
    NO_CHOICE = "no-choice"
    EMERGENCY = "emergency"
    LAST_RESORT = "last-resort"


@dataclass(frozen=True, slots=True)
class Collect:
    """Play the prompt and read up to `max_digits` keys."""

    prompt: str
    timeout_ms: int
    max_digits: int
    attempt: int


@dataclass(frozen=True, slots=True)
class Route:
    destination: str
    reason: RouteReason


Action = Collect | Route


class Dialogue:
    def __init__(
        self,
        menu: Menu,
        prompt: str | None,
        *,
        attempts: int,
        timeout_ms: int,
        max_digits: int,
        last_resort: str,
        resolves: Callable[[str], Awaitable[bool]],
    ) -> None:
        self._menu = menu
        self._prompt = prompt
        self._attempts = attempts
        self._timeout_ms = timeout_ms
        self._max_digits = max_digits
        self._last_resort = last_resort
        self._resolves = resolves
        self._attempt = 0

    async def start(self) -> Action:
        if self._prompt is None:
            destination = self._menu.destinations.emergency
            return await self._route(destination, RouteReason.EMERGENCY)
        return self._collect()

    async def on_keys(self, keys: str) -> Action:
        """After a Collect: the keys pressed ("" for none, or a timeout)."""
        keys = keys.strip()
        if keys:
            chosen = self._menu.destination_for(keys)
            if chosen is None and await self._resolves(keys):
                chosen = keys
            if chosen is not None:
                return await self._route(chosen, RouteReason.CHOSEN)
        if self._attempt >= self._attempts:
            destination = self._menu.destinations.default
            return await self._route(destination, RouteReason.NO_CHOICE)
        return self._collect()

    def _collect(self) -> Collect:
        assert self._prompt is not None  # noqa: S101 - start() routed away otherwise
        self._attempt += 1
        return Collect(self._prompt, self._timeout_ms, self._max_digits, self._attempt)

    async def _route(self, destination: str, reason: RouteReason) -> Route:
        if destination and await self._resolves(destination):
            return Route(destination, reason)
        return Route(self._last_resort, RouteReason.LAST_RESORT)


def max_digits_for(menu: Menu, default: int = 3) -> int:
    """Enough keys for the longest extension offered (or typical office length)."""
    return max([default, *(len(e.extension) for e in menu.entries)])
