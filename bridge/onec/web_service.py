"""The contract of 1C's `miko_crm_api` web service, as the bridge uses it.

Implemented over SOAP by `bridge.onec.soap` (zeep); the long-poll hub's
web-service mode depends only on this protocol.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

CALL_EVENT_SUBJECT = "provider.v1.calls"


@dataclass(frozen=True, slots=True)
class OneCUser:
    user_id: str  # 1C user reference
    name: str
    extension: str


class MikoCrmApi(Protocol):
    async def call_event(self, subject: str, data: str) -> None:
        """Deliver one event (JSON text) to 1C; raises `OneCError`."""
        ...

    async def user_list(self) -> list[OneCUser]:
        """1C users with their extensions; raises `bridge.onec.errors.OneCError`."""
        ...

    async def aclose(self) -> None:
        """Release the HTTP session (the service is stopping)."""
        ...
