"""Who is polling: the consumers of the long-poll channels (PRODUCT §12).

A consumer is a 1C base (`onec`: receives every event, answers contact requests) or
a telephony panel (`panel`: receives only its extension's events). Tokens are shown
once and stored hashed. Implemented by `bridge.longpoll.consumers`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol


class ConsumerKind(enum.StrEnum):
    ONEC = "onec"
    PANEL = "panel"


@dataclass(frozen=True, slots=True)
class Consumer:
    name: str
    kind: ConsumerKind
    extension: str = ""  # panels only


class Consumers(Protocol):
    async def authenticate(self, token: str) -> Consumer | None:
        """The consumer a bearer token belongs to, or None (unknown or revoked)."""
        ...

    async def issue_panel_token(self, extension: str, user_id: str) -> str:
        """After 1C authorized a panel: a token for that extension's events only."""
        ...
