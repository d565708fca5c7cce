"""Reading the journal: the history filters of seeds 004 and 001 as SQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bridge.call_events import Direction
from bridge.journal.models import CallLeg
from bridge.phone_numbers import NumberKind, PhoneNumber


@dataclass(frozen=True, slots=True)
class CallFilter:
    since: datetime | None = None
    until: datetime | None = None
    # One number: calls it took part in; two: answered calls between them.
    numbers: tuple[PhoneNumber, ...] = ()
    linkedid: str = ""
    direction: Direction | None = None
    missed: bool | None = None
    employee: str = ""


def match_key(number: PhoneNumber) -> str:
    """The key `CallLeg.src_key`/`dst_key` hold for this number."""
    if number.kind is NumberKind.INTERNAL:
        return number.canonical
    return number.key10


def _involves(number: PhoneNumber) -> ColumnElement[bool]:
    key = match_key(number)
    clauses = [CallLeg.src_key == key, CallLeg.dst_key == key]
    if number.kind is NumberKind.INTERNAL:
        clauses.append(CallLeg.employee == key)
    return or_(*clauses)


def where(flt: CallFilter) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = []
    if flt.since is not None:
        clauses.append(CallLeg.started_at >= flt.since)
    if flt.until is not None:
        clauses.append(CallLeg.started_at < flt.until)
    clauses.extend(_involves(n) for n in flt.numbers)
    if len(flt.numbers) == 2:  # answered calls "between two numbers" (seed 004)
        clauses.append(CallLeg.answered.is_(True))
    if flt.linkedid:
        clauses.append(CallLeg.linkedid == flt.linkedid)
    if flt.direction is not None:
        clauses.append(CallLeg.direction == flt.direction.value)
    if flt.missed is not None:
        clauses.append(CallLeg.missed.is_(flt.missed))
    if flt.employee:
        clauses.append(CallLeg.employee == flt.employee)
    return clauses


async def page(
    conn: AsyncConnection, flt: CallFilter, *, limit: int, offset: int
) -> tuple[list[CallLeg], bool]:
    """Newest first; also whether more rows follow."""
    stmt = select(CallLeg.__table__).where(and_(True, *where(flt)))
    stmt = stmt.order_by(CallLeg.started_at.desc(), CallLeg.id.desc())
    rows = (await conn.execute(stmt.limit(limit + 1).offset(offset))).all()
    legs = [CallLeg(**row._mapping) for row in rows[:limit]]
    return legs, len(rows) > limit


async def call_legs(conn: AsyncConnection, linkedid: str) -> list[CallLeg]:
    """A call's legs in the order they happened (a transfer chain in order)."""
    stmt = (
        select(CallLeg.__table__)
        .where(CallLeg.linkedid == linkedid)
        .order_by(CallLeg.started_at, CallLeg.sequence, CallLeg.id)
    )
    return [CallLeg(**row._mapping) for row in (await conn.execute(stmt)).all()]


async def leg(conn: AsyncConnection, leg_id: int) -> CallLeg | None:
    row = (
        await conn.execute(select(CallLeg.__table__).where(CallLeg.id == leg_id))
    ).first()
    return CallLeg(**row._mapping) if row is not None else None


async def stream(
    conn: AsyncConnection, flt: CallFilter, *, limit: int
) -> AsyncIterator[Sequence[CallLeg]]:
    """Matching legs in chunks, for the CSV export."""
    stmt = select(CallLeg.__table__).where(and_(True, *where(flt)))
    stmt = stmt.order_by(CallLeg.started_at.desc(), CallLeg.id.desc()).limit(limit)
    result = await conn.stream(stmt)
    async for rows in result.partitions(1000):
        yield [CallLeg(**row._mapping) for row in rows]
