"""The smart IVR as a `bridge.routing.Router`: who to ring first for a caller.

Rostelecom's get_number_info routes straight to a PIN; that is the first employee
the caller's menu would offer (responsible, available, or the last one they spoke
with), so both paths agree.
"""

from __future__ import annotations

from bridge.phone_numbers import PhoneNumber
from smart_ivr.service import IvrService


class IvrRouter:
    def __init__(self, service: IvrService) -> None:
        self._service = service

    async def route(self, caller: PhoneNumber, called: PhoneNumber) -> str | None:
        if not caller.is_external:
            return None
        menu = await self._service.menu(caller.canonical)
        return menu.entries[0].extension if menu.entries else None
