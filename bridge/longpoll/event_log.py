"""The durable event log in the database: append in batches, read, prune.

The log is the durability point: a publish returns only after its batch commits.
Concurrent publishes are written together in one transaction (SQLite commits are
the bottleneck, not rows); on SQLite through a connection and thread of their own
(`SqliteAppender`), the rest through SQLAlchemy. Commits happen one at a time, in
`seq` order — within a process by the single writer, across instances by a
PostgreSQL advisory lock — so a reader that has seen `seq` never later finds a
smaller one appear.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from bridge.longpoll.cursor import LogBounds, StoredEvent
from bridge.longpoll.models import EventRow
from bridge.longpoll.sqlite_appender import SqliteAppender
from bridge.storage.database import Database
from bridge.storage.models import InstanceMeta

log = logging.getLogger(__name__)
EPOCH_KEY = "events.epoch"
PRUNED_KEY = "events.pruned_through"
_PG_APPEND_LOCK = 0x7E1E0E01  # any fixed number, shared by every instance


class EventLogError(Exception):
    """The database could not store or read events."""


@dataclass(frozen=True, slots=True)
class NewEvent:
    topic: str
    data: str  # JSON text, rendered by the publisher (bad data fails there)
    extensions: frozenset[str]
    published_at: datetime

    @classmethod
    def of(
        cls,
        topic: str,
        data: dict[str, Any],
        extensions: frozenset[str],
        published_at: datetime,
    ) -> NewEvent:
        """Raises TypeError/ValueError if `data` is not JSON-serializable."""
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        return cls(topic, text, extensions, published_at)


class EventLog:
    def __init__(self, db: Database) -> None:
        self._db = db
        self.epoch = ""
        self._appender = _sqlite_appender(db)

    def close(self) -> None:
        """Release the SQLite append thread (the engine is the Database's)."""
        if self._appender is not None:
            self._appender.close()

    async def open(self) -> LogBounds:
        """Read (or, on a fresh log, create) the epoch; the bounds to serve from."""
        try:
            async with self._db.session() as session:
                self.epoch = await self._epoch(session)
                return await self._bounds(session)
        except SQLAlchemyError as exc:
            raise EventLogError(f"cannot open the event log: {exc}") from exc

    async def append(self, batch: Sequence[NewEvent]) -> list[StoredEvent]:
        """Store `batch` in one transaction, in order; their stored forms."""
        texts = [
            (
                e.topic,
                e.published_at,
                " ".join(sorted(e.extensions)),
                e.data,
            )
            for e in batch
        ]
        if self._appender is not None:
            try:
                seqs = await self._appender.append(texts)
            except sqlite3.Error as exc:
                raise EventLogError(f"cannot store events: {exc}") from exc
        else:
            seqs = await self._append_with_sqlalchemy(texts)
        return [
            self.stored(seq, *text_) for seq, text_ in zip(seqs, texts, strict=True)
        ]

    async def _append_with_sqlalchemy(
        self, texts: list[tuple[str, datetime, str, str]]
    ) -> list[int]:
        rows = [
            {"topic": t, "published_at": at, "extensions": x, "data": d}
            for t, at, x, d in texts
        ]
        stmt = insert(EventRow).returning(EventRow.seq, sort_by_parameter_order=True)
        try:
            # A Core connection, not an ORM session: fewer round trips to the
            # database thread on the hot path.
            async with self._db.engine.begin() as conn:
                await self._lock_appends(conn)
                result = await conn.execute(stmt, rows)
                return [row[0] for row in result.all()]
        except SQLAlchemyError as exc:
            raise EventLogError(f"cannot store events: {exc}") from exc

    async def read(self, after: int, limit: int) -> list[StoredEvent]:
        stmt = (
            select(EventRow)
            .where(EventRow.seq > after)
            .order_by(EventRow.seq)
            .limit(limit)
        )
        try:
            async with self._db.session() as session:
                found = (await session.scalars(stmt)).all()
        except SQLAlchemyError as exc:
            raise EventLogError(f"cannot read events: {exc}") from exc
        return [
            self.stored(r.seq, r.topic, r.published_at, r.extensions, r.data)
            for r in found
        ]

    async def head(self) -> int:
        """The newest seq stored (0: none); also a cheap "does the log answer"."""
        try:
            async with self._db.session() as session:
                return await session.scalar(select(func.max(EventRow.seq))) or 0
        except SQLAlchemyError as exc:
            raise EventLogError(f"cannot read the event log: {exc}") from exc

    async def pruned_through(self) -> int:
        try:
            async with self._db.session() as session:
                row = await session.get(InstanceMeta, PRUNED_KEY)
        except SQLAlchemyError as exc:
            raise EventLogError(f"cannot read the event log bounds: {exc}") from exc
        return int(row.value) if row else 0

    async def prune(
        self, now: datetime, keep_seconds: int, keep_events: int
    ) -> LogBounds:
        """Drop events both older than `keep_seconds` and beyond the newest
        `keep_events`; remember how far, so older cursors get a reset."""
        try:
            async with self._db.session() as session, session.begin():
                await self._lock_appends(session)
                bounds = await self._bounds(session)
                old_enough = await session.scalar(
                    select(func.max(EventRow.seq)).where(
                        EventRow.published_at < now - timedelta(seconds=keep_seconds)
                    )
                )
                cutoff = min(old_enough or 0, bounds.head - keep_events)
                if cutoff <= bounds.pruned_through:
                    return bounds
                await session.execute(delete(EventRow).where(EventRow.seq <= cutoff))
                await _put_meta(session, PRUNED_KEY, str(cutoff))
                log.info("event log pruned through %s", cutoff)
                return LogBounds(self.epoch, cutoff, bounds.head)
        except SQLAlchemyError as exc:
            raise EventLogError(f"cannot prune events: {exc}") from exc

    def stored(
        self, seq: int, topic: str, when: datetime, extensions: str, data: str
    ) -> StoredEvent:
        head = json.dumps(
            {"id": f"{self.epoch}.{seq}", "topic": topic, "time": when.isoformat()},
            ensure_ascii=False,
            separators=(",", ":"),
        )
        body = head[:-1] + ',"data":' + data + "}"
        return StoredEvent(
            seq, topic, frozenset(extensions.split()), body.encode("utf-8")
        )

    async def _bounds(self, session: AsyncSession) -> LogBounds:
        head = await session.scalar(select(func.max(EventRow.seq))) or 0
        pruned = await session.get(InstanceMeta, PRUNED_KEY)
        pruned_through = int(pruned.value) if pruned else 0
        return LogBounds(self.epoch, pruned_through, max(head, pruned_through))

    async def _epoch(self, session: AsyncSession) -> str:
        found = await session.get(InstanceMeta, EPOCH_KEY)
        if found is not None:
            return found.value
        epoch = uuid.uuid4().hex[:16]
        try:
            async with session.begin_nested():
                session.add(InstanceMeta(key=EPOCH_KEY, value=epoch))
            await session.commit()
        except IntegrityError:
            # Another instance created it first: theirs is the epoch.
            await session.rollback()
            again = await session.get(InstanceMeta, EPOCH_KEY)
            assert again is not None  # noqa: S101 - the conflict proves it exists
            return again.value
        log.info("new event log epoch %s", epoch)
        return epoch

    async def _lock_appends(self, session: AsyncSession | AsyncConnection) -> None:
        if not self._db.is_sqlite:
            await session.execute(
                text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_APPEND_LOCK}
            )


def _sqlite_appender(db: Database) -> SqliteAppender | None:
    path = db.sqlite_file
    if path is None:
        return None
    column = EventRow.__table__.c.published_at
    to_db = column.type.bind_processor(db.engine.dialect)
    assert to_db is not None  # noqa: S101 - UtcDateTime always converts
    return SqliteAppender(path, db.busy_timeout_ms, to_db)


async def _put_meta(session: AsyncSession, key: str, value: str) -> None:
    row = await session.get(InstanceMeta, key)
    if row is None:
        session.add(InstanceMeta(key=key, value=value))
    else:
        row.value = value
