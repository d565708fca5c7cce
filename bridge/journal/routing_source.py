"""The journal as the routing table and the smart IVR see it.

`JournalCalls` feeds answered calls to the routing_table job as documents of the
built-in "calls" type: the client is the number's 1C owner when the journal knows
it, else the number itself (the IVR looks a caller up the same way, owner first).
`JournalLastTalks` answers the "last responsible" shortcut.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

from sqlalchemy import select

from bridge.clock import Clock
from bridge.journal.models import CallLeg
from bridge.storage.database import Database
from jobs.routing_table.config import CALLS
from jobs.routing_table.job import Batch
from jobs.routing_table.ranking import Interaction
from smart_ivr.menu import LastTalk

PAGE = 5000


class JournalCalls:
    """Answered calls with an employee and a client, in journal id order."""

    name = CALLS

    def __init__(self, db: Database) -> None:
        self._db = db

    async def read(self, position: str) -> AsyncIterator[Batch]:
        last_id = int(position or 0)
        while True:
            async with self._db.session() as session:
                rows = (
                    await session.execute(
                        select(
                            CallLeg.id,
                            CallLeg.owner_ref,
                            CallLeg.external_number,
                            CallLeg.employee,
                            CallLeg.started_at,
                            CallLeg.answered,
                        )
                        .where(CallLeg.id > last_id)
                        .order_by(CallLeg.id)
                        .limit(PAGE)
                    )
                ).all()
            if not rows:
                return
            last_id = rows[-1][0]
            # Only a talk ties a client to an employee: a missed call says nothing.
            documents = [
                Interaction(owner or number, employee, CALLS, started)
                for _id, owner, number, employee, started, answered in rows
                if answered and employee and number
            ]
            yield Batch(documents, str(last_id))
            if len(rows) < PAGE:
                return


class JournalLastTalks:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def last_talk(self, number: str, since: datetime) -> LastTalk | None:
        async with self._db.session() as session:
            row = (
                await session.execute(
                    select(CallLeg.employee, CallLeg.started_at)
                    .where(
                        CallLeg.external_number == number,
                        CallLeg.answered.is_(True),
                        CallLeg.employee != "",
                        CallLeg.started_at >= since,
                    )
                    .order_by(CallLeg.started_at.desc())
                    .limit(1)
                )
            ).first()
        if row is None:
            return None
        minutes = int((self._clock.now() - row[1]).total_seconds() // 60)
        return LastTalk(row[0], max(minutes, 0))
