"""The stored mapping journal call → 1C document, and which calls are due.

A call is due for write-back when it has an outside party, started inside the
look-back window, has settled (its last leg ended a while ago, so a transfer's
late legs are in) and has no link yet, or a link left `sending` by an attempt
whose outcome is unknown. Fewest attempts first: a call 1C keeps failing on goes
to the back of the queue instead of holding up the others.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, and_, func, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from bridge.call_events import Direction
from bridge.journal.calls import JournalCall
from bridge.journal.models import CallLeg, OneCCallDocument
from bridge.storage.database import Database

REASON_LENGTH = 512


class LinkState(enum.StrEnum):
    SENDING = "sending"  # sent, or about to be: 1C may have the document
    CREATED = "created"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class DueCall:
    call: JournalCall
    # True when an earlier attempt may have created the document already.
    unconfirmed: bool


@dataclass(frozen=True, slots=True)
class Window:
    since: datetime  # calls that started at or after this
    settled: datetime  # ... and whose last leg ended at or before this


class OneCLinks:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def due(self, window: Window, limit: int) -> list[DueCall]:
        async with self._db.session() as session:
            keys = (await session.execute(_due_keys(window).limit(limit))).all()
            if not keys:
                return []
            legs = await _legs_of(session, [(k.source, k.linkedid) for k in keys])
        return [
            DueCall(JournalCall.of(legs[(k.source, k.linkedid)]), k.state is not None)
            for k in keys
        ]

    async def pending(self, window: Window) -> int:
        """Calls due now that still have no confirmed document."""
        keys = _due_keys(window).subquery()
        async with self._db.session() as session:
            return int(
                (await session.execute(select(func.count()).select_from(keys))).scalar()
                or 0
            )

    async def sending(self, call: JournalCall, now: datetime) -> None:
        """Record the attempt, committed before the document is sent (see module)."""
        async with self._db.session() as session, session.begin():
            found = await session.execute(
                update(OneCCallDocument)
                .where(_is(call))
                .values(
                    attempts=OneCCallDocument.attempts + 1,
                    state=LinkState.SENDING.value,
                    updated_at=now,
                )
            )
            if found.rowcount:  # type: ignore[attr-defined]
                return
            session.add(
                OneCCallDocument(
                    source=call.source,
                    linkedid=call.linkedid,
                    leg_id=call.first_leg_id,
                    state=LinkState.SENDING.value,
                    ref_key=None,
                    reason="",
                    attempts=1,
                    updated_at=now,
                )
            )

    async def created(self, call: JournalCall, ref_key: str, now: datetime) -> None:
        await self._finish(call, now, state=LinkState.CREATED, ref_key=ref_key)

    async def rejected(self, call: JournalCall, reason: str, now: datetime) -> None:
        await self._finish(
            call, now, state=LinkState.REJECTED, reason=reason[:REASON_LENGTH]
        )

    async def _finish(
        self,
        call: JournalCall,
        now: datetime,
        *,
        state: LinkState,
        ref_key: str | None = None,
        reason: str = "",
    ) -> None:
        async with self._db.session() as session, session.begin():
            await session.execute(
                update(OneCCallDocument)
                .where(_is(call))
                .values(
                    state=state.value, ref_key=ref_key, reason=reason, updated_at=now
                )
            )


def _is(call: JournalCall) -> ColumnElement[bool]:
    return and_(
        OneCCallDocument.source == call.source,
        OneCCallDocument.linkedid == call.linkedid,
    )


def _due_keys(window: Window) -> Select[str, str, str]:
    link = OneCCallDocument
    return (
        select(CallLeg.source, CallLeg.linkedid, func.max(link.state).label("state"))
        .outerjoin(
            link, and_(link.source == CallLeg.source, link.linkedid == CallLeg.linkedid)
        )
        .where(
            CallLeg.started_at >= window.since,
            CallLeg.direction != Direction.INTERNAL.value,
            or_(link.id.is_(None), link.state == LinkState.SENDING.value),
        )
        .group_by(CallLeg.source, CallLeg.linkedid)
        .having(func.max(CallLeg.ended_at) <= window.settled)
        .order_by(
            func.coalesce(func.max(link.attempts), 0), func.min(CallLeg.started_at)
        )
    )


async def _legs_of(
    session: AsyncSession, keys: list[tuple[str, str]]
) -> dict[tuple[str, str], list[CallLeg]]:
    rows = await session.execute(
        select(CallLeg).where(tuple_(CallLeg.source, CallLeg.linkedid).in_(keys))
    )
    legs: dict[tuple[str, str], list[CallLeg]] = defaultdict(list)
    for leg in rows.scalars():
        legs[(leg.source, leg.linkedid)].append(leg)
    return legs
