"""Phone -> owners, answered from memory (`bridge.contacts.ContactDirectory`).

The stored tables (`bridge.onec.models`) are the truth; this is their in-memory
view, loaded at start and swapped whole after each build, so a lookup is two dict
reads and never waits on 1C or the database. When 1C is down, lookups keep
answering from the last build.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from bridge.contacts import ContactMatch, ContactOwner
from bridge.onec.models import ContactOwnerRow, ContactPhoneRow
from bridge.phone_numbers import PhoneNumber, normalize
from bridge.storage.database import Database

log = logging.getLogger(__name__)
# Callers ask about the same numbers again and again (a client calls back, the PBX
# and 1C ask about one call); the cache keeps those lookups at dict speed.
_NORMALIZE_CACHE = 50_000
_normalize = functools.lru_cache(maxsize=_NORMALIZE_CACHE)(normalize)


@dataclass(frozen=True, slots=True)
class _Snapshot:
    by_number: dict[str, tuple[ContactOwner, ...]]
    by_key10: dict[str, tuple[ContactOwner, ...]]
    owners: int
    loaded_at: datetime | None


_EMPTY = _Snapshot({}, {}, 0, None)


class ContactIndex:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._snapshot = _EMPTY
        self._swapped = asyncio.Condition()

    @property
    def size(self) -> int:
        """Distinct numbers indexed."""
        return len(self._snapshot.by_number)

    @property
    def owners(self) -> int:
        return self._snapshot.owners

    @property
    def loaded_at(self) -> datetime | None:
        return self._snapshot.loaded_at

    async def lookup(self, number: str) -> ContactMatch | None:
        return self.match(number)

    def match(self, number: str) -> ContactMatch | None:
        """The synchronous lookup, for bulk passes (the refresh jobs)."""
        return self.match_normalized(_normalize(number))

    def match_normalized(self, number: PhoneNumber) -> ContactMatch | None:
        if not number.is_external:
            return None
        snap = self._snapshot
        owners = snap.by_number.get(number.canonical) or snap.by_key10.get(number.key10)
        return ContactMatch(number.canonical, owners) if owners else None

    async def load(self, now: datetime) -> None:
        """Replace the in-memory view with what the tables hold."""
        async with self._db.session() as session:
            owner_rows = await session.execute(
                select(
                    ContactOwnerRow.entity,
                    ContactOwnerRow.ref,
                    ContactOwnerRow.presentation,
                    ContactOwnerRow.parent_entity,
                    ContactOwnerRow.parent_ref,
                ).where(ContactOwnerRow.deleted.is_(False))
            )
            owners = [tuple(r) for r in owner_rows]
            phone_rows = await session.execute(
                select(
                    ContactPhoneRow.entity,
                    ContactPhoneRow.ref,
                    ContactPhoneRow.number,
                    ContactPhoneRow.key10,
                ).order_by(ContactPhoneRow.id)
            )
            phones = [tuple(r) for r in phone_rows]
        # Hundreds of thousands of rows: build off the event loop, which keeps
        # serving lookups (from the old snapshot) and long-polls meanwhile.
        self._snapshot = await asyncio.to_thread(_snapshot, owners, phones, now)
        log.info("contact index: %d numbers of %d owners", self.size, self.owners)
        async with self._swapped:
            self._swapped.notify_all()

    async def wait_for(self, predicate: Callable[[ContactIndex], bool]) -> None:
        """Until a load leaves the index in the wanted state (callers bound it)."""
        async with self._swapped:
            await self._swapped.wait_for(lambda: predicate(self))


def _snapshot(
    owner_rows: list[tuple[str, ...]], phone_rows: list[tuple[str, ...]], now: datetime
) -> _Snapshot:
    owners = _owners(owner_rows)
    by_number: dict[str, list[ContactOwner]] = defaultdict(list)
    by_key10: dict[str, list[ContactOwner]] = defaultdict(list)
    for entity, ref, number, key10 in phone_rows:
        owner = owners.get((entity, ref))
        if owner is not None:
            by_number[number].append(owner)
            by_key10[key10].append(owner)
    return _Snapshot(
        {k: tuple(v) for k, v in by_number.items()},
        {k: tuple(v) for k, v in by_key10.items()},
        len(owners),
        now,
    )


def _owners(rows: list[tuple[str, ...]]) -> dict[tuple[str, str], ContactOwner]:
    """(entity, ref, presentation, parent_entity, parent_ref) rows -> owners."""
    names = {(entity, ref): name for entity, ref, name, _, _ in rows}
    return {
        (entity, ref): ContactOwner(
            ref=ref,
            entity=entity,
            presentation=name,
            parent_ref=parent_ref,
            parent_presentation=names.get((parent_entity, parent_ref), ""),
        )
        for entity, ref, name, parent_entity, parent_ref in rows
    }
