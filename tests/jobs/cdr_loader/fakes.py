"""Small stand-ins for the contact index and the event stream used by the loader."""

from __future__ import annotations

from typing import Any

from bridge.call_events import CallEvent
from bridge.contacts import ContactMatch, ContactOwner
from bridge.phone_numbers import normalize


class Directory:
    """A `ContactDirectory` over a dict (the 1C contact index stands behind it)."""

    def __init__(self, names: dict[str, str]) -> None:
        self.by_key = {normalize(n).key10: (n, name) for n, name in names.items()}
        self.lookups = 0

    async def lookup(self, number: str) -> ContactMatch | None:
        self.lookups += 1
        hit = self.by_key.get(normalize(number).key10)
        if hit is None:
            return None
        owner = ContactOwner(f"ref-{hit[0]}", "Catalog_Контрагенты", hit[1])
        return ContactMatch(number, (owner,))


class Events:
    """An `EventSink` that keeps what was published."""

    def __init__(self) -> None:
        self.published: list[tuple[str, dict[str, Any]]] = []

    async def publish_call(self, event: CallEvent) -> str:
        raise AssertionError("the loader publishes no call events")

    async def publish(
        self,
        topic: str,
        data: dict[str, Any],
        *,
        extensions: frozenset[str] = frozenset(),
    ) -> str:
        self.published.append((topic, data))
        return str(len(self.published))
