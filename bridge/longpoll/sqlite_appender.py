"""Appends to the SQLite event log on its own connection and thread.

A targeted event's latency is mostly its commit (issue 3). Through SQLAlchemy's
async layer one insert and commit take several hops to aiosqlite's thread and
back (≈ 1.2 ms here); one call to a thread that owns a plain `sqlite3` connection
runs BEGIN, INSERT, COMMIT in one hop (≈ 0.15 ms). Durability is the same commit
as before: WAL with `synchronous=NORMAL`, which survives a killed process; only a
power loss can take the last commits (docs/longpoll-protocol.md, "Durability").
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

Row = tuple[str, datetime, str, str]  # topic, published_at, extensions, data
_INSERT = (
    "INSERT INTO event_log (topic, published_at, extensions, data) VALUES (?, ?, ?, ?)"
)


class SqliteAppender:
    """One writer thread, one connection; `append` is called by one task at a time."""

    def __init__(
        self, path: str, busy_timeout_ms: int, to_db: Callable[[datetime], Any]
    ) -> None:
        self._path = path
        self._busy_timeout_ms = busy_timeout_ms
        self._to_db = to_db  # the column type's own conversion: same text as before
        self._conn: sqlite3.Connection | None = None
        self._thread: ThreadPoolExecutor | None = None

    async def append(self, rows: Sequence[Row]) -> list[int]:
        """Store `rows` in one transaction, in order; their seqs."""
        if self._thread is None:
            self._thread = ThreadPoolExecutor(1, thread_name_prefix="event-append")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, self._append, rows)

    def close(self) -> None:
        """Close the connection on its thread and end the thread (a later
        `append` starts them again)."""
        if self._thread is not None:
            self._thread.submit(self._close)
            self._thread.shutdown(wait=True)
            self._thread = None

    def _append(self, rows: Sequence[Row]) -> list[int]:
        conn = self._connection()
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

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            # Autocommit mode: the transaction is the explicit BEGIN above.
            conn = sqlite3.connect(self._path, isolation_level=None)
            conn.execute(f"PRAGMA busy_timeout={int(self._busy_timeout_ms)}")
            # As every connection of the Database (bridge/storage/database.py).
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._conn = conn
        return self._conn

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
