"""Shared fixtures: real databases (SQLite file and the machine's PostgreSQL), a
config pointed at a temporary data folder, and the whole service on real sockets.

PostgreSQL tests are not skipped when the server is missing: they fail, loudly,
because CI must prove both engines (TELEBRIDGE_TEST_PG_URL overrides the address).
Each PostgreSQL test gets its own schema, so parallel runs never see each other.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bridge.clock import FakeClock
from bridge.config import Config
from bridge.core import Core, open_core
from bridge.service import Listening, running
from bridge.storage import migrate
from bridge.storage.database import Database
from jobs.catalog import CHANNEL_OF_JOB

PG_URL = os.environ.get(
    "TELEBRIDGE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
ADMIN_TOKEN = "test-admin-token-0123456789"


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """`configure_logging` rewires the root logger (the CLI calls it in-process in
    some tests); put it back, or later threads log into a closed capture stream."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.reset_defaults()


@pytest.fixture(autouse=True)
def _no_telebridge_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """An operator's TELEBRIDGE_* variables must not leak into tests."""
    for name in list(os.environ):
        if name.upper().startswith("TELEBRIDGE_") and name != "TELEBRIDGE_TEST_PG_URL":
            monkeypatch.delenv(name)


class PgSchema:
    """A throwaway PostgreSQL schema; engines opened with `url_args` live in it."""

    def __init__(self) -> None:
        self.name = f"t_{uuid.uuid4().hex[:16]}"
        self.connect_args = {"options": f"-csearch_path={self.name}"}

    async def create(self) -> None:
        await self._admin(f'CREATE SCHEMA "{self.name}"')

    async def drop(self) -> None:
        await self._admin(f'DROP SCHEMA IF EXISTS "{self.name}" CASCADE')

    async def _admin(self, sql: str) -> None:
        engine = create_async_engine(PG_URL)
        try:
            async with engine.begin() as conn:
                await conn.execute(text(sql))
        finally:
            await engine.dispose()


@pytest.fixture
async def pg_schema() -> AsyncIterator[PgSchema]:
    schema = PgSchema()
    await schema.create()
    try:
        yield schema
    finally:
        await schema.drop()


async def open_database(kind: str, tmp_path: Path) -> tuple[Database, PgSchema | None]:
    if kind == "sqlite":
        return Database(f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"), None
    schema = PgSchema()
    await schema.create()
    return Database(PG_URL, connect_args=schema.connect_args), schema


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A migrated database, once on SQLite and once on PostgreSQL."""
    database, schema = await open_database(request.param, tmp_path)
    try:
        await migrate.upgrade(database)
        yield database
    finally:
        await database.dispose()
        if schema is not None:
            await schema.drop()


@pytest.fixture
async def sqlite_db(tmp_path: Path) -> AsyncIterator[Database]:
    """A migrated SQLite database, for tests where the engine does not matter."""
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'test.db'}")
    try:
        await migrate.upgrade(database)
        yield database
    finally:
        await database.dispose()


# The exchange jobs' seeded windows (08:00-21:00 Moscow) open the long-poll
# channels; tests read the wall clock through the running service, so a suite run
# in the evening would find them closed. Tests of the windows set their own.
ALL_DAY_CHANNELS = {
    job: {"schedule": {"begin_time": "00:00:00"}} for job in CHANNEL_OF_JOB
}


def make_config(tmp_path: Path, **sections: dict[str, Any]) -> Config:
    """A config on a temporary data folder, ephemeral ports, a known admin token,
    and the scheduler off (pass jobs={"enabled": True} to run it)."""
    base: dict[str, Any] = {
        "http": {"host": "127.0.0.1", "port": 0},
        "crmd": {"host": "127.0.0.1", "port": 0},
        "agi": {"host": "127.0.0.1", "port": 0},
        "storage": {"data_dir": str(tmp_path / "var")},
        "auth": {"admin_token": ADMIN_TOKEN},
        # No live scheduler unless a test asks for one: CI may run inside the
        # 08:00-21:00 window, and real fires would race tests that count rows.
        "jobs": {"enabled": False, "seed": ALL_DAY_CHANNELS},
    }
    for name, values in sections.items():
        base.setdefault(name, {}).update(values)
    return Config(**base)


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return make_config(tmp_path)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def core(config: Config, clock: FakeClock) -> AsyncIterator[Core]:
    """Core objects on a migrated SQLite database in the temporary data folder."""
    async with open_core(config, clock=clock) as c:
        await migrate.upgrade(c.db)
        yield c


class RunningService:
    def __init__(self, core: Core, where: Listening) -> None:
        self.core = core
        self.where = where
        self.url = "http://{}:{}".format(*where.http)
        self.crmd_url = "http://{}:{}".format(*where.crmd) if where.crmd else ""
        self.admin_headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
async def service(config: Config) -> AsyncIterator[RunningService]:
    """The whole service, listening on real ephemeral ports."""
    async with running(config) as (core, where):
        yield RunningService(core, where)
