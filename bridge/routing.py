"""Where a call from a number should go: the contract between the routing table
(built by the smart-IVR / routing issue) and its users (Rostelecom get_number_info,
the Asterisk smart-IVR hooks).
"""

from __future__ import annotations

from typing import Protocol

from bridge.phone_numbers import PhoneNumber


class Router(Protocol):
    async def route(self, caller: PhoneNumber, called: PhoneNumber) -> str | None:
        """The PIN (extension) of the employee to ring first, or None for "no
        opinion": the PBX then applies its own rules. Answers from local data only.
        """
        ...
