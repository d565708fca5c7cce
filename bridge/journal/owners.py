"""The journal as the contact refresh jobs see it (`jobs.contact_refresh.calls`):
legs with no owner yet, and a way to record the owners found."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from datetime import datetime

from sqlalchemy import func, select, update

from bridge.journal.models import CallLeg
from bridge.storage.database import Database
from jobs.contact_refresh.calls import Ownership, UnownedCall

PAGE = 2000


class JournalOwners:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def unowned(self, since: datetime) -> AsyncIterator[UnownedCall]:
        # Paged by id from the window's first leg: SQLite walks the table by id,
        # and starting at 0 it would read every older leg before the window.
        async with self._db.session() as session:
            first = await session.scalar(
                select(func.min(CallLeg.id)).where(CallLeg.started_at >= since)
            )
        if first is None:
            return
        last_id = first - 1
        while True:
            async with self._db.session() as session:
                rows = (
                    await session.execute(
                        select(CallLeg.id, CallLeg.external_number)
                        .where(
                            CallLeg.owner_ref.is_(None),
                            CallLeg.external_number != "",
                            CallLeg.started_at >= since,
                            CallLeg.id > last_id,
                        )
                        .order_by(CallLeg.id)
                        .limit(PAGE)
                    )
                ).all()
            for record_id, number in rows:
                yield UnownedCall(record_id, number)
            if len(rows) < PAGE:
                return
            last_id = rows[-1][0]

    async def set_owners(self, owners: Sequence[Ownership]) -> None:
        # One UPDATE per distinct owner, not per leg: a busy client has many calls.
        by_owner: dict[tuple[str, str, str], list[int]] = defaultdict(list)
        for ownership in owners:
            if not ownership.match.owners:
                continue
            first = ownership.match.owners[0]
            name = ownership.match.display_name[:256]
            by_owner[(first.ref, first.entity, name)].append(ownership.record_id)
        async with self._db.session() as session, session.begin():
            for (ref, entity, name), ids in by_owner.items():
                await session.execute(
                    update(CallLeg)
                    .where(CallLeg.id.in_(ids))
                    .values(owner_ref=ref, owner_entity=entity, owner_name=name)
                )
