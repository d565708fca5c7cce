"""The routing table as its readers see it: a client's employees, ranked now.

A ranking is computed at read time from the client's contributions with
`ranking.rank`, the specification itself: one indexed read of a few dozen rows and
a few microseconds of Python. Nothing ranked is stored, so nothing goes stale:
expiries, dismissals and changed weights or validities apply to the next call.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace

from bridge.clock import Clock
from jobs.routing_table.ranking import ClientRanking, DocumentType, rank
from jobs.routing_table.store import RoutingStore

InactiveEmployees = Callable[[], Awaitable[frozenset[str]]]
EmployeeId = Callable[[str], str]


class RoutingTable:
    def __init__(
        self,
        store: RoutingStore,
        types: Mapping[str, DocumentType],
        clock: Clock,
        inactive: InactiveEmployees,
        employee_id: EmployeeId | None = None,
    ) -> None:
        self._store = store
        self._types = dict(types)
        self._clock = clock
        self._inactive = inactive
        # 1C documents name users, calls name extensions: one person, one entry.
        self._employee_id = employee_id
        live = [t.validity for t in types.values() if t.enabled]
        self._reach = max(live) if live else None

    async def ranking(self, client: str, *same: str) -> ClientRanking | None:
        """The client's ranked employees, or None when nothing ties them to anyone.

        `same` are other keys of the same caller, ranked together with `client`:
        a caller's 1C owner and their number, since calls made before the owner
        was known are kept under the number."""
        if self._reach is None:
            return None
        now = self._clock.now()
        found = await self._store.contributions((client, *same), now - self._reach, now)
        if not found:
            return None
        person = self._employee_id or str
        documents = [
            replace(d, client=client, employee=person(d.employee)) for d in found
        ]
        ranked = rank(documents, self._types, now, inactive=await self._inactive())
        return ranked.get(client)

    async def employees(self) -> list[str]:
        """Everyone some client's ranking may name now: employees with a document
        still inside the longest validity, in id order (for the pre-warm)."""
        if self._reach is None:
            return []
        return await self._store.employees(self._clock.now() - self._reach)
