"""The consumers of the long-poll channels, kept in the database (PRODUCT §12).

Implements `bridge.longpoll.consumer_auth.Consumers`. A token is 32 random bytes
shown once; only its SHA-256 is stored (a slow hash buys nothing for a random
secret of that size). Authenticated consumers are cached in memory, so a poll
costs no database round trip; each poll's cursor is its acknowledgement and is
written back in the background (`flush`), for the lag shown to the admin and for
polls that come without a cursor.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.exc import IntegrityError

from bridge.clock import Clock
from bridge.longpoll.consumer_auth import Consumer, ConsumerKind
from bridge.longpoll.models import ConsumerRow
from bridge.storage.database import Database

log = logging.getLogger(__name__)
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$")
EXTENSION_PATTERN = re.compile(r"^[0-9*#]{1,32}$")
_TOKEN_BYTES = 32


class ConsumerError(Exception):
    """A consumer cannot be added or revoked as asked."""


class InvalidConsumer(ConsumerError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class ConsumerExists(ConsumerError):
    pass


class NoSuchConsumer(ConsumerError):
    pass


@dataclass(frozen=True, slots=True)
class ConsumerInfo:
    consumer: Consumer
    created_at: datetime
    last_poll_at: datetime | None
    cursor: str


@dataclass(slots=True)
class _Seen:
    cursor: str
    at: datetime


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class ConsumerRegistry:
    def __init__(
        self, db: Database, clock: Clock, start: Callable[[], str] = lambda: ""
    ) -> None:
        self._db = db
        self._clock = clock
        # Where a new consumer starts: the log's head when it is created, so every
        # event published after that reaches it, polled yet or not.
        self._start = start
        self._by_hash: dict[str, Consumer] = {}
        self._stored_cursor: dict[str, str] = {}
        self._seen: dict[str, _Seen] = {}
        self._lookups: dict[str, asyncio.Future[Consumer | None]] = {}
        self._forgotten = 0  # counts local revocations; see refresh()

    # --- Consumers protocol ------------------------------------------------------

    async def load(self) -> None:
        """Cache every consumer at start: after a restart 1,000 re-polling clients
        must not each cost a database lookup."""
        async with self._db.session() as session:
            rows = (await session.scalars(select(ConsumerRow))).all()
        for row in rows:
            self._remember(row)

    async def authenticate(self, token: str) -> Consumer | None:
        digest = hash_token(token)
        found = self._by_hash.get(digest)
        if found is not None:
            return found
        # Not cached (added on another instance, or unknown): one lookup per
        # token however many polls ask at once.
        lookup = self._lookups.get(digest)
        if lookup is None:
            lookup = asyncio.ensure_future(self._lookup(digest))
            self._lookups[digest] = lookup
            lookup.add_done_callback(lambda _f: self._lookups.pop(digest, None))
        return await asyncio.shield(lookup)

    async def _lookup(self, digest: str) -> Consumer | None:
        async with self._db.session() as session:
            row = await session.scalar(
                select(ConsumerRow).where(ConsumerRow.token_hash == digest)
            )
        return None if row is None else self._remember(row)

    async def refresh(self) -> None:
        """Drop cached consumers that are gone from the database.

        Another instance may have revoked a consumer or replaced a panel token;
        without this, its old token would keep working here until a restart.
        Called every few seconds, so a revocation holds everywhere that soon.
        """
        forgotten = self._forgotten
        async with self._db.session() as session:
            rows = (await session.scalars(select(ConsumerRow))).all()
        if forgotten != self._forgotten:
            return  # revoked here meanwhile: the rows may predate it; next time
        self._by_hash = {row.token_hash: _consumer(row) for row in rows}
        for row in rows:
            self._stored_cursor.setdefault(row.name, row.cursor)
        names = {row.name for row in rows}
        for name in set(self._stored_cursor) - names:
            self._stored_cursor.pop(name, None)
            self._seen.pop(name, None)

    def _remember(self, row: ConsumerRow) -> Consumer:
        consumer = _consumer(row)
        self._by_hash[row.token_hash] = consumer
        self._stored_cursor.setdefault(consumer.name, row.cursor)
        return consumer

    async def issue_panel_token(self, extension: str, user_id: str) -> str:
        """A fresh token for `extension`; replaces that user's previous panel token."""
        name = f"panel:{extension}:{user_id}"
        _check(name, ConsumerKind.PANEL, extension)
        token = secrets.token_urlsafe(_TOKEN_BYTES)
        async with self._db.session() as session, session.begin():
            await session.execute(delete(ConsumerRow).where(ConsumerRow.name == name))
            session.add(self._row(name, ConsumerKind.PANEL, extension, token))
        self._forget(name)
        return token

    # --- admin ---------------------------------------------------------------

    async def add(self, name: str, kind: ConsumerKind, extension: str = "") -> str:
        """Create a consumer; its token, which is never shown again."""
        _check(name, kind, extension)
        token = secrets.token_urlsafe(_TOKEN_BYTES)
        try:
            async with self._db.session() as session, session.begin():
                session.add(self._row(name, kind, extension, token))
        except IntegrityError:
            raise ConsumerExists(f"consumer {name!r} already exists") from None
        log.info("consumer %s (%s) added", name, kind.value)
        return token

    async def revoke(self, name: str) -> None:
        async with self._db.session() as session, session.begin():
            result = await session.execute(
                delete(ConsumerRow).where(ConsumerRow.name == name)
            )
        self._forget(name)
        if not getattr(result, "rowcount", 0):
            raise NoSuchConsumer(f"no consumer named {name!r}")
        log.info("consumer %s revoked", name)

    async def list(self) -> list[ConsumerInfo]:
        await self.flush()
        async with self._db.session() as session:
            rows = (await session.scalars(select(ConsumerRow).order_by("name"))).all()
        return [
            ConsumerInfo(_consumer(r), r.created_at, r.last_poll_at, r.cursor)
            for r in rows
        ]

    # --- acknowledgements ------------------------------------------------------

    def cursor_of(self, consumer: Consumer) -> str:
        """Where a poll without a cursor resumes: the consumer's last ack, or ""."""
        seen = self._seen.get(consumer.name)
        return seen.cursor if seen else self._stored_cursor.get(consumer.name, "")

    def polled(self, consumer: Consumer, cursor: str) -> None:
        self._seen[consumer.name] = _Seen(cursor, self._clock.now())

    async def flush(self) -> None:
        """Write the acknowledgements seen since the last flush."""
        seen, self._seen = self._seen, {}
        if not seen:
            return
        stmt = (
            update(ConsumerRow)
            .where(ConsumerRow.name == bindparam("seen_name"))
            .values(cursor=bindparam("seen_cursor"), last_poll_at=bindparam("seen_at"))
        )
        rows = [
            {"seen_name": name, "seen_cursor": s.cursor, "seen_at": s.at}
            for name, s in seen.items()
        ]
        # One executemany: the write lock is held for one trip to the database
        # thread, not one per consumer (event commits wait for that lock).
        async with self._db.engine.begin() as conn:
            await conn.execute(stmt, rows)
        for name, s in seen.items():
            self._stored_cursor[name] = s.cursor

    def _row(
        self, name: str, kind: ConsumerKind, extension: str, token: str
    ) -> ConsumerRow:
        cursor = self._start()
        self._stored_cursor[name] = cursor
        return ConsumerRow(
            name=name,
            kind=kind.value,
            extension=extension,
            token_hash=hash_token(token),
            created_at=self._clock.now(),
            last_poll_at=None,
            cursor=cursor,
        )

    def _forget(self, name: str) -> None:
        self._forgotten += 1
        self._by_hash = {h: c for h, c in self._by_hash.items() if c.name != name}
        self._stored_cursor.pop(name, None)
        self._seen.pop(name, None)


def _check(name: str, kind: ConsumerKind, extension: str) -> None:
    if not NAME_PATTERN.match(name):
        raise InvalidConsumer(
            "name", "1-128 letters, digits or _.:@- starting with a letter or digit"
        )
    if kind is ConsumerKind.PANEL and not EXTENSION_PATTERN.match(extension):
        raise InvalidConsumer("extension", "a panel needs its extension (digits)")
    if kind is ConsumerKind.ONEC and extension:
        raise InvalidConsumer("extension", "a 1C consumer receives every extension")


def _consumer(row: ConsumerRow) -> Consumer:
    return Consumer(row.name, ConsumerKind(row.kind), row.extension)
