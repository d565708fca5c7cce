"""Leader locks: one instance at a time runs the schedules, or pushes to 1C.

PostgreSQL: a session advisory lock held on a dedicated connection, so it goes away
with the connection when the process dies. SQLite can only be shared by processes of
one host, so an OS file lock next to the database does the same job there.
Standby instances keep serving HTTP and retry the lock every `jobs.refresh_seconds`.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Protocol

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection

from bridge.storage.database import Database

log = logging.getLogger(__name__)
# Any fixed numbers, distinct from the migration lock's and from each other.
_PG_SCHEDULER_LOCK = 0x7E1EB505
_PG_KEYS = {"scheduler": _PG_SCHEDULER_LOCK, "web-service-push": 0x7E1EB506}


class LeaderLock(Protocol):
    async def acquire(self) -> bool:
        """Take the lock if free; True if this instance holds it now."""
        ...

    async def still_held(self) -> bool:
        """False once the lock was lost (the dedicated connection died)."""
        ...

    async def release(self) -> None: ...


class PgAdvisoryLock:
    def __init__(self, db: Database, key: int = _PG_SCHEDULER_LOCK) -> None:
        self._db = db
        self._key = key
        self._conn: AsyncConnection | None = None

    async def acquire(self) -> bool:
        if self._conn is not None:
            return await self.still_held()
        conn = await self._db.engine.connect()
        # Autocommit: an idle session holding the lock must not sit "in transaction".
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        try:
            got = await conn.scalar(
                text("SELECT pg_try_advisory_lock(:k)"), {"k": self._key}
            )
        except SQLAlchemyError:
            await conn.close()
            raise
        if got:
            self._conn = conn
            return True
        await conn.close()
        return False

    async def still_held(self) -> bool:
        if self._conn is None:
            return False
        try:
            await self._conn.execute(text("SELECT 1"))
        except SQLAlchemyError:
            log.warning("scheduler lock connection lost; standing by")
            await self._drop()
            return False
        return True

    async def release(self) -> None:
        if self._conn is None:
            return
        try:
            await self._conn.execute(
                text("SELECT pg_advisory_unlock(:k)"), {"k": self._key}
            )
        except SQLAlchemyError:
            log.warning("could not unlock the scheduler lock; closing its connection")
        await self._drop()

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                await conn.close()
            except SQLAlchemyError:
                log.debug("closing a dead lock connection failed", exc_info=True)


class FileLock:
    def __init__(self, path: Path) -> None:
        self._path = path
        self._fd: int | None = None

    async def acquire(self) -> bool:
        if self._fd is not None:
            return True
        self._path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    async def still_held(self) -> bool:
        return self._fd is not None

    async def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


def leader_lock(db: Database, data_dir: Path, role: str = "scheduler") -> LeaderLock:
    """The lock for `role` ("scheduler" or "web-service-push")."""
    if db.is_sqlite:
        database = db.url.database or ""
        folder = Path(database).parent if database not in ("", ":memory:") else data_dir
        return FileLock(folder / f"{role}.lock")
    return PgAdvisoryLock(db, _PG_KEYS[role])


async def while_leading(
    lock: LeaderLock,
    work: Callable[[], Awaitable[None]],
    *,
    every: float,
    standby: Callable[[], None] = lambda: None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> None:
    """Run `work` only while this instance holds `lock`, until cancelled.

    Standing by, the lock is retried every `every` seconds; leading, it is checked
    as often and `work` is cancelled the moment it is lost, so two instances never
    both work for longer than one check. Returns when `work` ends on its own.
    """
    while True:
        if await lock.acquire():
            if await _lead(lock, work, every):
                return
            standby()
        await sleep(every)


async def _lead(
    lock: LeaderLock, work: Callable[[], Awaitable[None]], every: float
) -> bool:
    """True when `work` ended on its own; False when the lock was lost."""
    task = asyncio.ensure_future(work())
    try:
        while not task.done():
            await asyncio.wait({task}, timeout=every)
            if not task.done() and not await lock.still_held():
                log.warning("leader lock lost; standing by")
                return False
        task.result()  # its error, if it failed, is the caller's
        return True
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await lock.release()
