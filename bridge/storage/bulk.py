"""Bulk writes on PostgreSQL: COPY into a session table, then one INSERT … SELECT.

Through executemany a row costs a round of the protocol; through COPY, a few bytes
of one stream. The merge then runs in the server as a single statement, so the
table's own rules (ON CONFLICT) decide what lands, as they would row by row.
Rows that are new as a rule (the journal's) first try a COPY straight into the
table, and take the staged way only when that meets a key already there.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

_CSV = " WITH (FORMAT csv)"


async def copy_merge(
    conn: AsyncConnection,
    table: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    merge: str,
    *,
    new_as_a_rule: bool = False,
) -> int:
    """Insert `rows` (values in `columns` order) into `table`, ending the INSERT
    with `merge` (its ON CONFLICT clause); returns the rows the INSERT wrote.

    The session table lives as long as the connection and empties at commit; it
    is emptied after the merge too, for a second batch in the same transaction.
    A caller whose rows are `new_as_a_rule` (a journal's) has them copied
    straight into the table first, as `copy_merge_csv` does.
    """

    async def fill(copy: Any) -> None:
        for row in rows:
            await copy.write_row(row)

    return await _merge(conn, _Copy(table, columns, fill, ""), merge, new_as_a_rule)


async def copy_merge_csv(
    conn: AsyncConnection,
    table: str,
    columns: Sequence[str],
    data: bytes,
    merge: str,
    *,
    new_as_a_rule: bool = False,
) -> int:
    """`copy_merge` for rows already written as CSV (PostgreSQL's CSV rules:
    an unquoted empty field is NULL, a quoted one an empty string).

    Rows `new_as_a_rule` are copied straight into `table`: a third less work
    for the server than staging them. Should any of them already be there (a
    re-read window, a batch repeating a key), that copy is undone to its
    savepoint and the rows go the staged way, where `merge` decides.
    """

    async def fill(copy: Any) -> None:
        await copy.write(data)

    return await _merge(conn, _Copy(table, columns, fill, _CSV), merge, new_as_a_rule)


@dataclass(frozen=True, slots=True)
class _Copy:
    """One COPY's rows: where they go, and how to write them into the stream."""

    table: str
    columns: Sequence[str]
    fill: Callable[[Any], Awaitable[None]]
    options: str

    @property
    def names(self) -> str:
        return ", ".join(self.columns)

    async def into(self, cursor: Any, target: str) -> None:
        statement = f"COPY {target} ({self.names}) FROM STDIN{self.options}"
        async with cursor.copy(statement) as copy:
            await self.fill(copy)


async def _merge(
    conn: AsyncConnection, rows: _Copy, merge: str, straight_first: bool
) -> int:
    if straight_first:
        copied = await _copy_straight(conn, rows)
        if copied is not None:
            return copied
    return await _staged(conn, rows, merge)


async def _copy_straight(conn: AsyncConnection, rows: _Copy) -> int | None:
    """COPY the rows into their table itself; how many were copied, or None (and
    nothing copied) when one of them has a key the table already holds."""
    from psycopg.errors import UniqueViolation  # PostgreSQL only, like this path

    driver: Any = (await conn.get_raw_connection()).driver_connection
    async with driver.cursor() as cursor:
        await cursor.execute("SAVEPOINT copy_straight")
        try:
            await rows.into(cursor, rows.table)
        except UniqueViolation:
            await cursor.execute("ROLLBACK TO SAVEPOINT copy_straight")
            return None
        copied: int = max(cursor.rowcount, 0)
        await cursor.execute("RELEASE SAVEPOINT copy_straight")
        return copied


async def _staged(conn: AsyncConnection, rows: _Copy, merge: str) -> int:
    table, names = rows.table, rows.names
    staging = f"{table}_incoming"
    driver: Any = (await conn.get_raw_connection()).driver_connection
    async with driver.cursor() as cursor:
        await cursor.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {staging} ON COMMIT DELETE ROWS"  # noqa: S608 - fixed names
            f" AS SELECT {names} FROM {table} WITH NO DATA"
        )
        await rows.into(cursor, staging)
        await cursor.execute(
            f"INSERT INTO {table} ({names})"  # noqa: S608 - fixed names
            f" SELECT {names} FROM {staging} {merge}"
        )
        written: int = max(cursor.rowcount, 0)
        await cursor.execute(f"TRUNCATE {staging}")
    return written
