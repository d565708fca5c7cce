"""Wakes parked long-polls when their wait is over, with one timer for them all.

A timer handle per parked poll costs memory and a heap push and pop on the event
loop per poll; at 10,000 parked polls both count (issue 3). Polls wait whole
seconds, so deadlines are grouped on a 50 ms tick: a poll is answered at most one
tick (and a millisecond) after its wait, never before.
"""

from __future__ import annotations

import asyncio
import heapq
import math
from typing import Any

TICK_SECONDS = 0.05
# Fire a little after the tick: asyncio may run a timer up to its clock resolution
# early, and a poll woken before its deadline would park again.
_SLACK_SECONDS = 0.001
# A parked poll's future; woken with None: "look again" (the hub may also resolve
# it with an answer, see hub.py).
Wakeable = asyncio.Future[Any]


def wake(future: Wakeable) -> None:
    if not future.done():
        future.set_result(None)


class Deadlines:
    def __init__(self) -> None:
        self._due: dict[int, set[Wakeable]] = {}
        self._ticks: list[int] = []  # heap of ticks in `_due` (maybe stale)
        self._timer: asyncio.TimerHandle | None = None
        self._timer_tick = 0

    def add(self, future: Wakeable, when: float) -> int:
        """Wake `future` at loop time `when` (rounded up to a tick); its tick, for
        `remove`."""
        tick = math.ceil(when / TICK_SECONDS)
        waiting = self._due.get(tick)
        if waiting is None:
            waiting = self._due[tick] = set()
            heapq.heappush(self._ticks, tick)
            if self._timer is None or tick < self._timer_tick:
                self._schedule(tick)
        waiting.add(future)
        return tick

    def remove(self, future: Wakeable, tick: int) -> None:
        waiting = self._due.get(tick)
        if waiting is not None:
            waiting.discard(future)
            if not waiting:
                del self._due[tick]  # its heap entry is skipped when due

    def _schedule(self, tick: int) -> None:
        if self._timer is not None:
            self._timer.cancel()
        loop = asyncio.get_running_loop()
        self._timer = loop.call_at(tick * TICK_SECONDS + _SLACK_SECONDS, self._fire)
        self._timer_tick = tick

    def _fire(self) -> None:
        self._timer = None
        now = math.floor(asyncio.get_running_loop().time() / TICK_SECONDS)
        while self._ticks and self._ticks[0] <= now:
            for future in self._due.pop(heapq.heappop(self._ticks), ()):
                wake(future)
        while self._ticks and self._ticks[0] not in self._due:
            heapq.heappop(self._ticks)  # emptied by `remove`
        if self._ticks:
            self._schedule(self._ticks[0])
