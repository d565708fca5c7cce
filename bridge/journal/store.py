"""Writing the journal: idempotent inserts and the owner updates the contact jobs use.

Inserts are `ON CONFLICT DO NOTHING` on (source, leg_key), so re-reading any window
of a source inserts nothing twice; both SQLite and PostgreSQL support it natively.
"""

from __future__ import annotations

import functools
import hashlib
import json
import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any

import polars as pl
from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from bridge.contacts import ContactMatch
from bridge.journal.legs import JournalLeg
from bridge.journal.models import CallLeg, RejectedCdrRow
from bridge.storage.base import to_microseconds
from bridge.storage.bulk import copy_merge, copy_merge_csv

# Keys per IN (...) lookup: well under SQLite's bound-parameter limit.
INSERT_CHUNK = 900
# Rows per INSERT on SQLite: 1,000 x 28 values stays under the 32,766 bound
# parameters SQLite allows since 3.32 (before, 999).
SQLITE_ROWS_PER_INSERT = 1000 if sqlite3.sqlite_version_info >= (3, 32) else 35
_LEG_FIELDS = tuple(f.name for f in fields(JournalLeg))
_LEG_COLUMNS = (*_LEG_FIELDS, "owner_ref", "owner_entity", "owner_name")
_NEW_ONLY = "ON CONFLICT (source, leg_key) DO NOTHING"


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

    Values are converted once here the way the column types store them
    (`UtcMicroseconds`: naive UTC on PostgreSQL, integer microseconds on
    SQLite, so both paths read back alike) and handed to the driver as they are:
    SQLAlchemy's per-value bind processing was most of the load time. On
    PostgreSQL the rows go through COPY; on SQLite through multi-row INSERTs, one
    engine call per thousand rows (a row per call cost a quarter more). ON
    CONFLICT DO NOTHING leaves duplicates out of the count both engines report.
    """
    if not legs:
        return 0
    known = owners or {}
    if conn.dialect.name == "postgresql":
        rows = [_values(leg, known.get(leg.external_number), _pg_time) for leg in legs]
        fresh = not await _stored(conn, legs[0].source, legs[0].leg_key)
        return await copy_merge(
            conn, "call_legs", _LEG_COLUMNS, rows, _NEW_ONLY, new_as_a_rule=fresh
        )
    rows = [_values(leg, known.get(leg.external_number), _sqlite_time) for leg in legs]
    return await _insert_sqlite(conn, _row_chunks(rows), _sqlite_insert)


@dataclass(frozen=True, slots=True)
class TableRows:
    """Journal rows from `TableMapper`, rendered the way one engine takes them:
    PostgreSQL as a CSV stream for COPY, SQLite as INSERT parameters (times
    already as integer microseconds). Rendering needs no connection, so the
    loader does it in a worker thread while the previous batch is written."""

    height: int
    csv: bytes = b""
    chunks: tuple[tuple[int, tuple[Any, ...]], ...] = ()
    # The first row's key, for PostgreSQL's choice of COPY (see `insert_legs`).
    first_key: tuple[str, str] = ("", "")


def render_table(
    dialect: str,
    table: pl.DataFrame,
    owners: Mapping[str, Owner | None] | None = None,
) -> TableRows:
    """`table` with its owners (by external number) as `dialect` will take it."""
    if table.is_empty():
        return TableRows(0)
    table = table.with_columns(_owner_columns(owners or {}))
    if dialect == "postgresql":
        data = table.write_csv(
            include_header=False, quote_style="non_numeric", null_value="",
            datetime_format=_TIME_FORMAT,
        )  # fmt: skip
        first = (table["source"][0], table["leg_key"][0])
        return TableRows(table.height, csv=data.encode("utf-8"), first_key=first)
    table = _sqlite_table(table)
    width = len(_LEG_COLUMNS)
    chunks = []
    for start in range(0, table.height, SQLITE_ROWS_PER_INSERT):
        chunk = table.slice(start, SQLITE_ROWS_PER_INSERT)
        # Row after row, filled a column at a time: polars hands a column over as
        # one list and slice assignment places it, where asking polars for rows
        # builds a tuple per row and the values twice.
        values: list[Any] = [None] * (chunk.height * width)
        for index, column in enumerate(chunk.iter_columns()):
            values[index::width] = column.to_list()
        chunks.append((chunk.height, tuple(values)))
    return TableRows(table.height, chunks=tuple(chunks))


async def insert_rendered(conn: AsyncConnection, rows: TableRows) -> int:
    """Insert rows `render_table` prepared for this connection's engine; as
    `insert_legs`, returns how many were new."""
    if not rows.height:
        return 0
    if conn.dialect.name == "postgresql":
        fresh = not await _stored(conn, *rows.first_key)
        return await copy_merge_csv(
            conn, "call_legs", _LEG_COLUMNS, rows.csv, _NEW_ONLY, new_as_a_rule=fresh
        )
    return await _insert_sqlite(conn, rows.chunks, _sqlite_insert)


async def insert_table(
    conn: AsyncConnection,
    table: pl.DataFrame,
    owners: Mapping[str, Owner | None] | None = None,
) -> int:
    """Insert journal rows mapped as columns (`TableMapper`); as `insert_legs`."""
    rows = render_table(conn.dialect.name, table, owners)
    return await insert_rendered(conn, rows)


def sqlite_rows(table: pl.DataFrame) -> list[tuple[Any, ...]]:
    """The table's rows as `_values` gives them for SQLite: times as integers."""
    return _sqlite_table(table).rows()


def _sqlite_table(table: pl.DataFrame) -> pl.DataFrame:
    times = ("started_at", "answered_at", "ended_at")
    # The mapper's times are naive UTC, so the epoch count is UTC's.
    return table.with_columns(pl.col(times).dt.epoch("us"))


def _owner_columns(owners: Mapping[str, Owner | None]) -> list[pl.Expr]:
    number = pl.col("external_number")
    columns = {
        "owner_ref": {n: o.ref for n, o in owners.items() if o},
        "owner_entity": {n: o.entity for n, o in owners.items() if o},
        "owner_name": {n: o.name for n, o in owners.items() if o},
    }
    return [
        number.replace_strict(values, default=None, return_dtype=pl.String).alias(name)
        for name, values in columns.items()
    ]


async def _insert_sqlite(
    conn: AsyncConnection,
    chunks: Sequence[tuple[int, tuple[Any, ...]]],
    statement: Callable[[int], str],
) -> int:
    """Chunks of (rows, their values as `statement(rows)` takes them): the full
    ones as one executemany, any other on its own, so the driver's thread takes
    a batch in one or two calls."""
    size = SQLITE_ROWS_PER_INSERT
    full = [values for rows, values in chunks if rows == size]
    inserted = 0
    if full:
        result = await conn.exec_driver_sql(statement(size), full)
        inserted += max(result.rowcount, 0)
    for rows, values in chunks:
        if rows != size:
            result = await conn.exec_driver_sql(statement(rows), values)
            inserted += max(result.rowcount, 0)
    return inserted


def _row_chunks(rows: Sequence[Sequence[Any]]) -> list[tuple[int, tuple[Any, ...]]]:
    size = SQLITE_ROWS_PER_INSERT
    return [
        (len(chunk), tuple(value for row in chunk for value in row))
        for chunk in (rows[i : i + size] for i in range(0, len(rows), size))
    ]


@functools.lru_cache(maxsize=8)
def _sqlite_insert(rows: int) -> str:
    one = f"({', '.join(['?'] * len(_LEG_COLUMNS))})"
    return (
        f"INSERT INTO call_legs ({', '.join(_LEG_COLUMNS)}) "  # noqa: S608 - fixed
        f"VALUES {', '.join([one] * rows)} {_NEW_ONLY}"
    )


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


_NAIVE_EPOCH = datetime(1970, 1, 1)
_UTC_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# COPY's input, in polars' strftime dialect.
_TIME_FORMAT = "%Y-%m-%d %H:%M:%S%.6f"
# One encoder for every row: json.dumps() with non-default options builds a new
# JSONEncoder per call.
_raw_json = json.JSONEncoder(ensure_ascii=False, default=str).encode


def _naive_utc(value: datetime) -> datetime:
    # Arithmetic: astimezone() and replace() cost ten times more per call.
    return _NAIVE_EPOCH + (value - _UTC_EPOCH)


_pg_time = _naive_utc
_sqlite_time = to_microseconds


async def _stored(conn: AsyncConnection, source: str, leg_key: str) -> bool:
    """Whether a batch starting with this leg goes the staged way on PostgreSQL.

    A run's first batch starts with the overlap it re-reads, so when its first
    leg is stored already the straight COPY is skipped: one that fails has still
    sent every row (the row path took 1.14x the staged time so), one that
    succeeds takes 0.8x of it.
    """
    return bool(await existing_keys(conn, source, [leg_key]))


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
