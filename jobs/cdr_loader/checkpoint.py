"""Where a source's loader stopped. Saved in the transaction of the rows it covers,
so a crash leaves the checkpoint and the journal in agreement."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from bridge.journal.models import CdrCheckpoint


@dataclass(frozen=True, slots=True)
class Checkpoint:
    cursor: str | None
    gap_checked_at: datetime | None


async def load(conn: AsyncConnection, source: str) -> Checkpoint:
    row = (
        await conn.execute(
            select(CdrCheckpoint.cursor, CdrCheckpoint.gap_checked_at).where(
                CdrCheckpoint.source == source
            )
        )
    ).first()
    if row is None:
        return Checkpoint(None, None)
    return Checkpoint(row.cursor, row.gap_checked_at)


async def save(
    conn: AsyncConnection,
    source: str,
    now: datetime,
    *,
    cursor: str | None = None,
    gap_checked_at: datetime | None = None,
) -> None:
    """Upsert; only the given fields change."""
    values: dict[str, object] = {"updated_at": now}
    if cursor is not None:
        values["cursor"] = cursor
    if gap_checked_at is not None:
        values["gap_checked_at"] = gap_checked_at
    insert = (
        postgresql.insert(CdrCheckpoint)
        if conn.dialect.name == "postgresql"
        else sqlite.insert(CdrCheckpoint)
    )
    stmt = insert.values(
        source=source, cursor=cursor or "", gap_checked_at=gap_checked_at,
        updated_at=now,
    ).on_conflict_do_update(index_elements=["source"], set_=values)  # fmt: skip
    await conn.execute(stmt)
