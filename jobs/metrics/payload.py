"""The metrics payload (PRODUCT §9): configuration and usage figures, nothing personal.

What goes in is chosen field by field from the config and counted from the database:
versions, kinds, booleans and row counts per table. Config *values* that could hold a
number, a name, a URL or a secret (destinations, hosts, logins) are never copied,
only whether they are set.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func as sql_func
from sqlalchemy import inspect, select, table
from sqlalchemy.ext.asyncio import AsyncConnection

from bridge import __version__
from bridge.config import Config
from bridge.storage.database import Database

PAYLOAD_SCHEMA = 1
UNKNOWN = "unknown"
# Alembic's bookkeeping is not a usage figure.
_NOT_USAGE = frozenset({"alembic_version"})


async def build_payload(
    config: Config, db: Database, *, enabled_jobs: list[str]
) -> dict[str, Any]:
    return {
        "schema": PAYLOAD_SCHEMA,
        "product": {"name": "telebridge", "version": __version__},
        # The 1C side reports its configuration once the 1C client exists; until
        # then the bridge does not know it and says so.
        "onec": {"configuration": UNKNOWN, "version": UNKNOWN},
        "pbx": {"kind": _pbx_kind(config), "version": UNKNOWN},
        "dialplan": _dialplan(config),
        "jobs": {"enabled": sorted(enabled_jobs)},
        "usage": {"rows": await _row_counts(db), "storage": db.dialect},
    }


def _pbx_kind(config: Config) -> str:
    kinds = []
    if config.asterisk.host:
        kinds.append("asterisk")
    if config.vpbx.client_id:
        kinds.append("rostelecom-vpbx")
    return "+".join(kinds) or "none"


def _dialplan(config: Config) -> dict[str, Any]:
    return {
        "fastagi": config.agi.enabled,
        "crmd_compatible": config.crmd.enabled,
        "ivr_max_entries": config.ivr.max_entries,
        "ivr_default_destination_set": bool(config.ivr.default_destination),
        "ivr_emergency_destination_set": bool(config.ivr.emergency_destination),
        "cdr_source": config.cdr.source,
    }


async def _row_counts(db: Database) -> dict[str, int]:
    async with db.engine.connect() as conn:
        names = await conn.run_sync(lambda c: inspect(c).get_table_names())
        return {
            name: await _count(conn, name)
            for name in sorted(names)
            if name not in _NOT_USAGE
        }


async def _count(conn: AsyncConnection, name: str) -> int:
    value = await conn.scalar(select(sql_func.count()).select_from(table(name)))
    return int(value or 0)
