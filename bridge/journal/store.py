"""Writing the journal: idempotent inserts and the owner updates the contact jobs use.

Inserts are `ON CONFLICT DO NOTHING` on (source, leg_key), so re-reading any window
of a source inserts nothing twice; both SQLite and PostgreSQL support it natively.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from bridge.contacts import ContactMatch
from bridge.journal.legs import JournalLeg
from bridge.journal.models import CallLeg, RejectedCdrRow

# Keys per IN (...) lookup: well under SQLite's bound-parameter limit.
INSERT_CHUNK = 900
_LEG_FIELDS = tuple(f.name for f in fields(JournalLeg))
_LEG_COLUMNS = (*_LEG_FIELDS, "owner_ref", "owner_entity", "owner_name")


@dataclass(frozen=True, slots=True)
class Rejected:
    reason: str
    raw: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Owner:
    ref: str
    entity: str
    name: str

    @classmethod
    def from_match(cls, match: ContactMatch | None) -> Owner | None:
        if match is None or not match.owners:
            return None
        first = match.owners[0]
        return cls(first.ref, first.entity, match.display_name)


def _insert(conn: AsyncConnection, table: Any) -> postgresql.Insert | sqlite.Insert:
    """The dialect's INSERT, which knows ON CONFLICT (both engines have it)."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


async def insert_legs(
    conn: AsyncConnection,
    legs: Sequence[JournalLeg],
    owners: Mapping[str, Owner | None] | None = None,
) -> int:
    """Insert legs (owners by external number, when known); returns how many were new.

    The driver's own executemany of one prepared statement (sqlite3; psycopg's
    pipeline): SQLAlchemy's per-value bind processing, and then building a dict per
    row, were most of the load time. Values are converted once here the way the
    column types store them (`UtcDateTime`: naive UTC; on SQLite as SQLAlchemy's
    text form, so both paths read back alike). Both drivers sum the changed rows of
    an executemany, and ON CONFLICT DO NOTHING leaves duplicates out of that count.
    """
    if not legs:
        return 0
    sqlite_ = conn.dialect.name == "sqlite"
    mark = "?" if sqlite_ else "%s"
    sql = (
        f"INSERT INTO call_legs ({', '.join(_LEG_COLUMNS)}) "  # noqa: S608 - fixed
        f"VALUES ({', '.join([mark] * len(_LEG_COLUMNS))}) "
        "ON CONFLICT (source, leg_key) DO NOTHING"
    )
    time = _sqlite_time if sqlite_ else _pg_time
    known = owners or {}
    params = [_values(leg, known.get(leg.external_number), time) for leg in legs]
    result = await conn.exec_driver_sql(sql, params)
    return max(result.rowcount, 0)


def _values(
    leg: JournalLeg, owner: Owner | None, time: Callable[[datetime], Any]
) -> tuple[Any, ...]:
    """One row's parameters, in `_LEG_COLUMNS` order (a test reads every one back)."""
    answered_at = leg.answered_at
    return (
        leg.source, leg.leg_key, leg.linkedid, leg.call_id, leg.sequence,
        time(leg.started_at), None if answered_at is None else time(answered_at),
        time(leg.ended_at), leg.src_raw, leg.src_key, leg.dst_raw, leg.dst_key,
        leg.did, leg.direction.value, leg.status.value, leg.answered, leg.missed,
        leg.employee, leg.talk_seconds, leg.wait_seconds, leg.duration_seconds,
        leg.recording, leg.number_type, leg.external_number, _raw_json(leg.raw),
        owner.ref if owner else None, owner.entity if owner else None,
        owner.name if owner else None,
    )  # fmt: skip


def _raw_json(raw: Mapping[str, Any]) -> str:
    return json.dumps(raw, ensure_ascii=False, default=str)


def _sqlite_time(value: datetime) -> str:
    # SQLAlchemy's SQLite DateTime text ("%Y-%m-%d %H:%M:%S.%f"), which range
    # filters compare as strings; isoformat writes it several times faster.
    return _naive_utc(value).isoformat(" ", "microseconds")


def _naive_utc(value: datetime) -> datetime:
    # Subtracting the offset is cheaper than astimezone() through a ZoneInfo.
    offset = value.utcoffset()
    naive = value.replace(tzinfo=None)
    return naive if not offset else naive - offset


_pg_time = _naive_utc


async def insert_rejects(
    conn: AsyncConnection, source: str, rejects: Iterable[Rejected], now: datetime
) -> int:
    rows = []
    for rejected in rejects:
        raw = json.dumps(rejected.raw, ensure_ascii=False, sort_keys=True, default=str)
        digest = hashlib.sha256(raw.encode("utf-8")).hexdigest()
        rows.append(
            {
                "source": source,
                "row_hash": digest,
                "reason": rejected.reason[:512],
                "raw": raw,
                "rejected_at": now,
            }
        )
    if not rows:
        return 0
    table = RejectedCdrRow.__table__
    stmt = (
        _insert(conn, table).values(rows).on_conflict_do_nothing().returning(table.c.id)
    )
    return len((await conn.execute(stmt)).all())


async def existing_keys(
    conn: AsyncConnection, source: str, keys: Iterable[str]
) -> set[str]:
    wanted = list(set(keys))
    found: set[str] = set()
    for start in range(0, len(wanted), INSERT_CHUNK):
        chunk = wanted[start : start + INSERT_CHUNK]
        result = await conn.execute(
            select(CallLeg.leg_key).where(
                CallLeg.source == source, CallLeg.leg_key.in_(chunk)
            )
        )
        found.update(result.scalars())
    return found


async def numbers_without_owner(conn: AsyncConnection, limit: int = 1000) -> list[str]:
    """External numbers on journal legs that have no owner yet (indexed).

    The contact refresh jobs call this, look the numbers up and hand the answers
    to `set_owner`.
    """
    result = await conn.execute(
        select(CallLeg.external_number)
        .where(CallLeg.owner_ref.is_(None), CallLeg.external_number != "")
        .group_by(CallLeg.external_number)
        .order_by(func.max(CallLeg.started_at).desc())
        .limit(limit)
    )
    return list(result.scalars())


async def set_owner(conn: AsyncConnection, number: str, owner: Owner | None) -> int:
    """Set (or clear, with None) the owner of every leg with this external number."""
    result = await conn.execute(
        update(CallLeg)
        .where(CallLeg.external_number == number)
        .values(
            owner_ref=owner.ref if owner else None,
            owner_entity=owner.entity if owner else None,
            owner_name=owner.name if owner else None,
        )
    )
    return max(result.rowcount, 0)
