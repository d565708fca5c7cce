"""A fake of 1C's `miko_crm_api` web service, as `bridge.onec.web_service` describes it.

Stands in for the SOAP service `miko_crm_api.1cws` of a 1C base with the MIKO
subsystem (operations `call_event(Subject, Data)` and `user_list()`; research
`anchor-mikopbx-1c.md` §2.4). It records what it was sent and can be told to fail
the way the real client reports failures: `OneCUnavailable` (1C down, 5xx),
`OneCAuthError` (401/403), `SoapFault`.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from bridge.onec.errors import OneCError
from bridge.onec.web_service import OneCUser


class FakeMikoCrm:
    def __init__(self, users: list[OneCUser] | None = None) -> None:
        self.users = users or []
        self.received: list[tuple[str, dict[str, Any]]] = []
        self.failures: list[OneCError] = []  # raised by the next calls, in order
        self.attempts = 0
        self.closed = False
        self._arrived = asyncio.Condition()

    async def call_event(self, subject: str, data: str) -> None:
        self.attempts += 1
        if self.failures:
            raise self.failures.pop(0)
        async with self._arrived:
            self.received.append((subject, json.loads(data)))
            self._arrived.notify_all()

    async def user_list(self) -> list[OneCUser]:
        return list(self.users)

    async def aclose(self) -> None:
        self.closed = True

    async def until_received(self, count: int) -> None:
        async with self._arrived:
            await self._arrived.wait_for(lambda: len(self.received) >= count)

    async def until_received_call(self, call_id: str) -> None:
        async with self._arrived:
            await self._arrived.wait_for(
                lambda: any(d.get("call_id") == call_id for _, d in self.received)
            )
