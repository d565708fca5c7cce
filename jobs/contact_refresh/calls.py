"""What the refresh jobs need from the call journal, and nothing more.

The journal (`bridge.journal`) implements this; the jobs never import it, so each
side is testable alone.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bridge.contacts import ContactMatch


@dataclass(frozen=True, slots=True)
class UnownedCall:
    record_id: int
    number: str  # the external party's number, as the journal stored it


@dataclass(frozen=True, slots=True)
class Ownership:
    record_id: int
    match: ContactMatch


class UnownedCalls(Protocol):
    def unowned(self, since: datetime) -> AsyncIterator[UnownedCall]:
        """Journal records started at or after `since` that have no owner yet."""
        ...

    async def set_owners(self, owners: Sequence[Ownership]) -> None:
        """Record the owners found; one call per batch, idempotent."""
        ...
