"""Reading and writing the routing table's contributions.

Documents fold per (client, employee, type, day) in Python, once, and are written
week by week: each week's rows fill one region of the index while its pages are in
the cache, which is what makes a build of ten million documents a minute's work.
Reading returns a client's live contributions as `Interaction`s; ranking them is
`ranking.rank`'s job (`jobs.routing_table.table`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from operator import itemgetter
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bridge.storage.bulk import copy_merge
from bridge.storage.database import Database
from jobs.routing_table.models import (
    DAYS_PER_WEEK,
    MICROSECONDS_PER_DAY,
    RoutingCheckpoint,
    RoutingContribution,
    RoutingEmployee,
)
from jobs.routing_table.ranking import Interaction

COLUMNS = "week, client, employee, doc_type, day, documents, last_us"
_COLUMN_NAMES = tuple(COLUMNS.split(", "))
ON_CONFLICT = (
    "ON CONFLICT (week, client, employee, doc_type, day) DO UPDATE SET"
    " documents = routing_contribution.documents + excluded.documents,"
    " last_us = {latest}(routing_contribution.last_us, excluded.last_us)"
)

# Rows per driver call: large enough to amortise the trip to the driver's thread.
WRITE_CHUNK = 50_000


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """Where a source's next read starts, once a batch is folded."""

    source: str
    position: str
    at: datetime


# (week, client, employee, doc_type, day) → the row as the driver takes it:
# (week, client, employee, doc_type, day, documents, latest document in µs)
Key = tuple[int, str, str, str, int]
Row = tuple[int, str, str, str, int, int, int]
Folded = dict[Key, Row]


def micros(at: datetime) -> int:
    """Microseconds since the epoch; exact for any aware datetime of our era."""
    return round(at.timestamp() * 1_000_000)


def from_micros(value: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=value)


def week_of(at: datetime) -> int:
    return micros(at) // MICROSECONDS_PER_DAY // DAYS_PER_WEEK


def fold(
    interactions: Iterable[Interaction],
    into: Folded | None = None,
    *,
    not_before: int = 0,
) -> Folded:
    """Documents of the same client, employee, type and day become one row
    (added to `into` when given: a run folds batch after batch). Documents dated
    before `not_before` (µs) are left out: a first run over years of journal
    would only write what the prune drops again."""
    folded: Folded = {} if into is None else into
    for item in interactions:
        us = round(item.at.timestamp() * 1_000_000)  # micros(), without a call
        if us < not_before:
            continue
        day = us // MICROSECONDS_PER_DAY
        key = (day // DAYS_PER_WEEK, item.client, item.employee, item.doc_type, day)
        row = folded.get(key)
        # The row is built once per new key; the same pair twice in a day is rare.
        folded[key] = (
            (*key, item.count, us)
            if row is None
            else (*key, row[5] + item.count, max(row[6], us))
        )
    return folded


class RoutingStore:
    def __init__(self, db: Database) -> None:
        self._db = db
        latest = "max" if db.is_sqlite else "greatest"
        marks = "?" if db.is_sqlite else "%s"
        # Fixed names; the dialect picks the spelling of "the larger of".
        self._upsert = (
            f"INSERT INTO routing_contribution ({COLUMNS})"  # noqa: S608
            f" VALUES ({', '.join([marks] * 7)}) {ON_CONFLICT.format(latest=latest)}"
        )
        self._upsert_employee = (
            "INSERT INTO routing_employee (employee, last_us)"  # noqa: S608
            f" VALUES ({marks}, {marks})"
            " ON CONFLICT (employee) DO UPDATE SET"
            f" last_us = {latest}(routing_employee.last_us, excluded.last_us)"
        )

    async def add(
        self, interactions: Iterable[Interaction], checkpoint: Checkpoint | None = None
    ) -> set[str]:
        """Fold documents into the contributions, and move the source's checkpoint
        in the same transaction; returns the clients touched."""
        return await self.write(fold(interactions), checkpoint)

    async def write(
        self, folded: Folded, checkpoint: Checkpoint | None = None
    ) -> set[str]:
        """Add folded documents (see `fold`) and move the checkpoint, atomically."""
        async with self._db.engine.begin() as conn:
            if folded:
                await self._write(conn, folded)
            if checkpoint is not None:
                await self._save_checkpoint(conn, checkpoint)
        return {key[1] for key in folded}

    async def contributions(
        self, clients: Sequence[str], since: datetime, until: datetime
    ) -> list[Interaction]:
        """The clients' contributions with a document in (since, until]: one probe
        per week of the range and client, each a short run of the key."""
        weeks = list(range(week_of(since), week_of(until) + 1))
        table = RoutingContribution.__table__
        query = select(
            table.c.client,
            table.c.employee,
            table.c.doc_type,
            table.c.documents,
            table.c.last_us,
        ).where(
            table.c.week.in_(weeks),
            table.c.client.in_(clients),
            table.c.last_us > micros(since),
            table.c.last_us <= micros(until),
        )
        async with self._db.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [
            Interaction(client, employee, doc_type, from_micros(last_us), documents)
            for client, employee, doc_type, documents, last_us in rows
        ]

    async def employees(self, since: datetime) -> list[str]:
        """Employees with a document after `since`, in id order."""
        async with self._db.session() as session:
            rows = await session.execute(
                select(RoutingEmployee.employee)
                .where(RoutingEmployee.last_us > micros(since))
                .order_by(RoutingEmployee.employee)
            )
            return list(rows.scalars())

    async def prune(self, before: datetime) -> int:
        """Drop the weeks that ended before `before`: one range at the key's start."""
        cutoff = week_of(before)
        async with self._db.engine.begin() as conn:
            # The first key answers "anything to drop?" from the index; asked
            # straight away, PostgreSQL without fresh statistics scans the table.
            oldest = await conn.scalar(select(func.min(RoutingContribution.week)))
            if oldest is None or oldest >= cutoff:
                return 0
            result = await conn.execute(
                delete(RoutingContribution).where(RoutingContribution.week < cutoff)
            )
        return max(result.rowcount, 0)

    async def contribution_count(self) -> int:
        async with self._db.session() as session:
            count = await session.scalar(
                select(func.count()).select_from(RoutingContribution)
            )
        return int(count or 0)

    async def checkpoint(self, source: str) -> RoutingCheckpoint | None:
        async with self._db.session() as session:
            return await session.get(RoutingCheckpoint, source)

    async def _save_checkpoint(
        self, conn: AsyncConnection, checkpoint: Checkpoint
    ) -> None:
        await conn.execute(
            delete(RoutingCheckpoint).where(
                RoutingCheckpoint.source == checkpoint.source
            )
        )
        await conn.execute(
            insert(RoutingCheckpoint).values(
                source=checkpoint.source,
                position=checkpoint.position,
                built_at=checkpoint.at,
            )
        )

    async def _write(self, conn: AsyncConnection, folded: Folded) -> None:
        # The driver's executemany, week after week: the rows of one week go into
        # one region of the index, which stays in the page cache while it fills.
        # Ordering the rows within a week would cost Python more than it saves.
        rows = sorted(folded.values(), key=itemgetter(0))  # stable: weeks in order
        latest: dict[str, int] = {}
        for row in rows:
            if row[6] > latest.get(row[2], -1):
                latest[row[2]] = row[6]
        if self._db.is_sqlite:
            for chunk in _chunks(rows, WRITE_CHUNK):
                await conn.exec_driver_sql(self._upsert, chunk)
        else:
            merge = ON_CONFLICT.format(latest="greatest")
            await copy_merge(conn, "routing_contribution", _COLUMN_NAMES, rows, merge)
        await conn.exec_driver_sql(self._upsert_employee, sorted(latest.items()))


def _chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
