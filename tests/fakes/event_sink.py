"""A recording `EventSink`: what the long-poll hub would store, awaitable in tests."""

from __future__ import annotations

import asyncio
from typing import Any

from bridge.call_events import CallEvent


class RecordingSink:
    def __init__(self) -> None:
        self.calls: list[CallEvent] = []
        self.other: list[tuple[str, dict[str, Any]]] = []
        self._changed = asyncio.Condition()

    async def publish_call(self, event: CallEvent) -> str:
        async with self._changed:
            self.calls.append(event)
            self._changed.notify_all()
        return str(len(self.calls))

    async def publish(
        self,
        topic: str,
        data: dict[str, Any],
        *,
        extensions: frozenset[str] = frozenset(),
    ) -> str:
        self.other.append((topic, data))
        return f"o{len(self.other)}"

    async def wait_for(self, count: int) -> list[CallEvent]:
        """At least `count` call events (the caller bounds the wait with a timeout)."""
        async with self._changed:
            await self._changed.wait_for(lambda: len(self.calls) >= count)
        return self.calls
