"""The scheduler lock: one instance at a time runs the schedules.

PostgreSQL: a session advisory lock held on a dedicated connection, so it goes away
with the connection when the process dies. SQLite can only be shared by processes of
one host, so an OS file lock next to the database does the same job there.
Standby instances keep serving HTTP and retry the lock every `jobs.refresh_seconds`.
"""

from __future__ import annotations

import fcntl
import logging
import os
from pathlib import Path
from typing import Protocol

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection

from bridge.storage.database import Database

log = logging.getLogger(__name__)
# Any fixed number, distinct from the migration lock's.
_PG_SCHEDULER_LOCK = 0x7E1EB505
LOCK_FILE = "scheduler.lock"


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


def leader_lock(db: Database, data_dir: Path) -> LeaderLock:
    if db.is_sqlite:
        database = db.url.database or ""
        folder = Path(database).parent if database not in ("", ":memory:") else data_dir
        return FileLock(folder / LOCK_FILE)
    return PgAdvisoryLock(db)
