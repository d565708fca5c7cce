"""Schema migrations (Alembic), run in-process on the service's own engine."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text

from bridge.storage.database import Database

MIGRATIONS = Path(__file__).parent / "migrations"
# Any fixed number: the advisory lock that keeps two instances from migrating at once.
_PG_MIGRATION_LOCK = 0x7E1EB81D


def alembic_config(connection: Connection | None = None) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


async def upgrade(db: Database, revision: str = "heads") -> None:
    async with db.engine.begin() as conn:
        await conn.run_sync(_upgrade, revision)


async def current_revision(db: Database) -> str | None:
    async with db.engine.connect() as conn:
        return await conn.run_sync(
            lambda c: MigrationContext.configure(c).get_current_revision()
        )


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _upgrade(connection: Connection, revision: str) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(
            text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK}
        )
    command.upgrade(alembic_config(connection), revision)
