"""Appends to the SQLite event log with plain `sqlite3` connections of its own.

A targeted event's latency is mostly its commit (issue 3). Through SQLAlchemy's
async layer one insert and commit take several hops to aiosqlite's thread and
back (≈ 1.2 ms here). A WAL commit with `synchronous=NORMAL` is a write to the
log file without fsync, ≈ 0.02–0.05 ms, so it is done right on the event loop,
sparing two thread wake-ups. What could make it slow is kept off the loop:

- the lock: the loop's connection never waits for it (busy_timeout 0). When
  another writer holds it (a loader, the pruner), the batch is rolled back and
  committed on the thread's connection, which waits as every connection does;
- checkpoints (copying the log into the database, with fsync): the loop's
  connection never runs one; the thread checkpoints every `CHECKPOINT_EVERY`
  commits, and the Database's other connections still do on their own.

Durability is the same commit as before: it survives a killed process; only a
power loss can take the last commits (docs/longpoll-protocol.md, "Durability").
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from typing import Any

log = logging.getLogger(__name__)
Row = tuple[str, datetime, str, str]  # topic, published_at, extensions, data
CHECKPOINT_EVERY = 200  # commits; SQLite's own default is every 1,000 pages
_INSERT = (
    "INSERT INTO event_log (topic, published_at, extensions, data) VALUES (?, ?, ?, ?)"
)


class SqliteAppender:
    """`append` is called by one task at a time (the hub's writer)."""

    def __init__(
        self, path: str, busy_timeout_ms: int, to_db: Callable[[datetime], Any]
    ) -> None:
        self._path = path
        self._busy_timeout_ms = busy_timeout_ms
        self._to_db = to_db  # the column type's own conversion: same text as before
        self._on_loop: sqlite3.Connection | None = None
        self._on_thread: sqlite3.Connection | None = None
        self._thread: ThreadPoolExecutor | None = None
        self._checkpoint: Future[None] | None = None
        self._commits = 0

    async def append(self, rows: Sequence[Row]) -> list[int]:
        """Store `rows` in one transaction, in order; their seqs."""
        if self._on_loop is None:
            self._on_loop = self._connect(busy_timeout_ms=0, checkpoints=False)
        try:
            seqs = self._insert(self._on_loop, rows)
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY:
                raise
            loop = asyncio.get_running_loop()
            seqs = await loop.run_in_executor(
                self._executor(), self._insert_waiting, rows
            )
        self._commits += 1
        if self._commits % CHECKPOINT_EVERY == 0:
            self._start_checkpoint()
        return seqs

    def close(self) -> None:
        """Close both connections and end the thread (a later `append` starts
        them again)."""
        if self._on_loop is not None:
            self._on_loop.close()
            self._on_loop = None
        if self._thread is not None:
            self._thread.submit(self._close_on_thread)
            self._thread.shutdown(wait=True)
            self._thread = None

    def _insert(self, conn: sqlite3.Connection, rows: Sequence[Row]) -> list[int]:
        seqs: list[int] = []
        conn.execute("BEGIN IMMEDIATE")
        try:
            for topic, at, exts, data in rows:
                cursor = conn.execute(_INSERT, (topic, self._to_db(at), exts, data))
                assert cursor.lastrowid is not None  # noqa: S101 - an INSERT sets it
                seqs.append(cursor.lastrowid)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return seqs

    def _insert_waiting(self, rows: Sequence[Row]) -> list[int]:
        return self._insert(self._thread_connection(), rows)

    def _start_checkpoint(self) -> None:
        if self._checkpoint is None or self._checkpoint.done():
            self._checkpoint = self._executor().submit(self._run_checkpoint)

    def _run_checkpoint(self) -> None:
        try:
            # PASSIVE: copies what it can without blocking the loop's commits.
            self._thread_connection().execute("PRAGMA wal_checkpoint(PASSIVE)")
        except sqlite3.Error as exc:
            log.warning("event log checkpoint failed (retried later): %s", exc)

    def _executor(self) -> ThreadPoolExecutor:
        if self._thread is None:
            self._thread = ThreadPoolExecutor(1, thread_name_prefix="event-append")
        return self._thread

    def _thread_connection(self) -> sqlite3.Connection:
        if self._on_thread is None:
            self._on_thread = self._connect(self._busy_timeout_ms, checkpoints=True)
        return self._on_thread

    def _connect(
        self, busy_timeout_ms: int, *, checkpoints: bool
    ) -> sqlite3.Connection:
        # Autocommit mode: the transaction is the explicit BEGIN of `_insert`.
        conn = sqlite3.connect(self._path, isolation_level=None)
        conn.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        # WAL, as the Database's connections made the file when the log opened;
        # synchronous=NORMAL, as they have it (bridge/storage/database.py).
        conn.execute("PRAGMA synchronous=NORMAL")
        if not checkpoints:
            conn.execute("PRAGMA wal_autocheckpoint=0")
        return conn

    def _close_on_thread(self) -> None:
        if self._on_thread is not None:
            self._on_thread.close()
            self._on_thread = None
