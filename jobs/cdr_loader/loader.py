"""The `cdr_loader` job body: source → mapper → journal, from a checkpoint.

Each batch commits its legs, its rejected rows and the new checkpoint in one
transaction, so a crash between batches loses nothing and the re-run continues
from the last committed batch; the overlap re-reads the end of the previous run
and the unique key makes that a no-op. The gap check re-reads a longer window and
backfills rows the journal lacks (late-written CDRs, earlier failures).
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

import polars as pl

from bridge.call_events import EventSink
from bridge.clock import Clock
from bridge.contacts import ContactDirectory
from bridge.journal import store
from bridge.journal.legs import JournalLeg
from bridge.journal.store import Owner, Rejected
from bridge.storage.database import Database
from jobs.base import JobContext, JobOutcome, JobReport
from jobs.cdr_loader import checkpoint
from jobs.cdr_loader.mapping import RowMapper
from jobs.cdr_loader.records import Batch, SourceRow
from jobs.cdr_loader.sources.base import CdrSource, SourceUnavailable
from jobs.cdr_loader.table_mapping import TableMapper

log = logging.getLogger(__name__)
HISTORY_UPDATED = "history.updated"


@dataclass(frozen=True, slots=True)
class GapCheck:
    hours: int
    every: timedelta


class CdrLoader:
    def __init__(
        self,
        db: Database,
        source: CdrSource,
        *,
        zone: tzinfo,
        clock: Clock,
        gap_check: GapCheck | None = None,
        contacts: ContactDirectory | None = None,
        events: EventSink | None = None,
    ) -> None:
        self.db = db
        self.source = source
        self.zone = zone
        self.mapper = RowMapper(source.name, zone)
        self.tables = TableMapper(self.mapper)
        self.clock = clock
        self.gap_check = gap_check
        self.contacts = contacts
        self.events = events

    async def __call__(self, ctx: JobContext) -> JobReport:
        counters: Counter[str] = Counter()
        async with self.db.engine.connect() as conn:
            state = await checkpoint.load(conn, self.source.name)
        span: list[datetime] = []
        try:
            await self._load(state.cursor, counters, span)
            if self._gap_check_due(state.gap_checked_at):
                await self._check_gaps(counters, span)
        except SourceUnavailable as exc:
            log.warning("cdr source %s unavailable: %s", self.source.name, exc)
            await self._announce(counters, span)
            return JobReport(
                JobOutcome.FAILED, dict(counters), f"source unavailable: {exc}"
            )
        await self._announce(counters, span)
        return JobReport(JobOutcome.OK, dict(counters))

    async def _load(
        self, cursor: str | None, counters: Counter[str], span: list[datetime]
    ) -> None:
        """Batches in order, one written while the next is read and prepared.

        Preparing (mapping, then rendering the rows for the engine) runs in
        worker threads, so the event loop stays free: for the service's other
        work, and to feed the insert in flight. The insert runs in the database
        (its own thread for SQLite, its own process for PostgreSQL), so the two
        overlap on both cores and the write is all that is left on the critical
        path. Commits stay in batch order: batch N+1 starts writing only after
        batch N's transaction, with its checkpoint, committed.
        """
        writing: asyncio.Task[None] | None = None
        try:
            async for batch in self.source.batches(cursor):
                prepared = await self._prepare(batch)
                if writing is not None:
                    await writing
                stored = self._store(prepared, batch, counters, span)
                writing = asyncio.create_task(stored)
        finally:
            # Whatever stopped the reading, the batch in flight still commits (or
            # fails) before the run reports, so counters match the database.
            if writing is not None:
                await writing

    async def _prepare(self, batch: Batch) -> Prepared:
        mapped = await asyncio.to_thread(self._map_batch, batch)
        owners = await self._owners(mapped.numbers())
        rows = await asyncio.to_thread(
            store.render_table, self.db.dialect, mapped.table, owners
        )
        return Prepared(mapped, owners, rows)

    async def _store(
        self,
        prepared: Prepared,
        batch: Batch,
        counters: Counter[str],
        span: list[datetime],
    ) -> None:
        now = self.clock.now()
        mapped = prepared.mapped
        async with self.db.engine.begin() as conn:
            inserted = await store.insert_legs(conn, mapped.legs, prepared.owners)
            inserted += await store.insert_rendered(conn, prepared.rows)
            await store.insert_rejects(conn, self.source.name, mapped.rejects, now)
            await checkpoint.save(conn, self.source.name, now, cursor=batch.cursor)
        counters["read"] += mapped.rows
        counters["inserted"] += inserted
        counters["duplicates"] += mapped.rows - len(mapped.rejects) - inserted
        counters["rejected"] += len(mapped.rejects)
        _widen(span, mapped.started())

    async def _check_gaps(self, counters: Counter[str], span: list[datetime]) -> None:
        assert self.gap_check is not None  # noqa: S101 - _gap_check_due checked it
        now = self.clock.now()
        since = now - timedelta(hours=self.gap_check.hours)
        async for rows in self.source.window(since, now):
            legs, _ = self._map(rows)
            async with self.db.engine.connect() as conn:
                have = await store.existing_keys(
                    conn, self.source.name, (leg.leg_key for leg in legs)
                )
            missing = [leg for leg in legs if leg.leg_key not in have]
            if not missing:
                continue
            owners = await self._owners(leg.external_number for leg in missing)
            async with self.db.engine.begin() as conn:
                counters["backfilled"] += await store.insert_legs(conn, missing, owners)
            _widen(span, [leg.started_at for leg in missing])
        async with self.db.engine.begin() as conn:
            await checkpoint.save(conn, self.source.name, now, gap_checked_at=now)
        counters["gap_checks"] += 1

    def _gap_check_due(self, last: datetime | None) -> bool:
        if self.gap_check is None or self.gap_check.hours == 0:
            return False
        return last is None or self.clock.now() - last >= self.gap_check.every

    def _map_batch(self, batch: Batch) -> Mapped:
        if batch.table is None:
            return Mapped(len(batch.rows), *self._map(batch.rows), _EMPTY)
        table, others = self.tables.map(batch.table)
        legs, rejects = self._map([*batch.rows, *others])
        return Mapped(len(batch.rows) + batch.table.height, legs, rejects, table)

    def _map(
        self, rows: Iterable[SourceRow]
    ) -> tuple[list[JournalLeg], list[Rejected]]:
        legs: list[JournalLeg] = []
        rejects: list[Rejected] = []
        for row in rows:
            mapped = self.mapper.map(row)
            if isinstance(mapped, Rejected):
                rejects.append(mapped)
            else:
                legs.append(mapped)
        return legs, rejects

    async def _owners(self, numbers: Iterable[str]) -> dict[str, Owner | None]:
        """Owners of the batch's external numbers, each looked up once."""
        owners: dict[str, Owner | None] = {}
        if self.contacts is not None:
            for number in set(numbers) - {""}:
                owners[number] = Owner.from_match(await self.contacts.lookup(number))
        return owners

    async def _announce(self, counters: Counter[str], span: list[datetime]) -> None:
        new = counters["inserted"] + counters["backfilled"]
        if self.events is None or not new:
            return
        await self.events.publish(
            HISTORY_UPDATED,
            {
                "source": self.source.name,
                "inserted": new,
                "from": span[0].isoformat(),
                "to": span[1].isoformat(),
            },
        )


@dataclass(frozen=True, slots=True)
class Mapped:
    """A batch mapped: legs from the row path, journal rows from the column path."""

    rows: int  # source rows read
    legs: list[JournalLeg]
    rejects: list[Rejected]
    table: pl.DataFrame

    def numbers(self) -> Iterable[str]:
        yield from (leg.external_number for leg in self.legs)
        yield from self.table["external_number"].unique()

    def started(self) -> list[datetime]:
        starts = [leg.started_at for leg in self.legs]
        column = self.table["started_at"]  # naive UTC
        ends = (column.min(), column.max())
        starts.extend(v.replace(tzinfo=UTC) for v in ends if isinstance(v, datetime))
        return starts


@dataclass(frozen=True, slots=True)
class Prepared:
    """A batch ready to write: mapped, its owners looked up, its table rendered."""

    mapped: Mapped
    owners: Mapping[str, Owner | None]
    rows: store.TableRows


_EMPTY = pl.DataFrame(
    schema={"external_number": pl.String, "started_at": pl.Datetime("us")}
)


def _widen(span: list[datetime], starts: list[datetime]) -> None:
    """Keep [earliest start, latest start] of the legs seen in `span`."""
    if not starts:
        return
    first, last = min(starts), max(starts)
    if not span:
        span.extend((first, last))
    else:
        span[0] = min(span[0], first)
        span[1] = max(span[1], last)
