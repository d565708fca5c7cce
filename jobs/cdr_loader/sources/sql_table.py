"""An Asterisk or MikoPBX CDR table over a SQLAlchemy URL.

Asterisk's `cdr` (cdr_adaptive_odbc, cdr_pgsql, cdr_mysql: `calldate`, `src`,
`dst`, `channel`, `dstchannel`, ..., newer ones `linkedid`, `sequence`) and
MikoPBX's `cdr_general` (`start`, `endtime`, `answer`, `src_num`, `dst_num`,
`src_chan`, `dst_chan`, `UNIQUEID`, `linkedid`, `recordingfile`, ...) are told
apart by their columns, found by reflection. Rows are read in start order from the
checkpoint minus the overlap; rows sharing the last start time of a batch are read
whole, so paging never splits them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import Column, Connection, MetaData, Table, Text, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from jobs.cdr_loader.records import ALIASES, Batch, SourceRow, as_text, standard_row
from jobs.cdr_loader.sources.base import SourceUnavailable

_ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+psycopg"}
# A bound in the PBX's text layout; sorts before any fraction of that second.
_TEXT_TIME = "%Y-%m-%d %H:%M:%S"


class SqlTableSource:
    name = "sql"

    def __init__(
        self,
        url: str,
        table: str,
        *,
        batch_size: int = 5000,
        overlap: timedelta = timedelta(minutes=15),
        zone: tzinfo = UTC,
    ) -> None:
        self.url = _async_url(url)
        self.table_name = table
        self.batch_size = batch_size
        self.overlap = overlap
        self.zone = zone

    async def batches(self, cursor: str | None) -> AsyncIterator[Batch]:
        engine = create_async_engine(self.url)
        try:
            table, names = await self._reflect(engine)
            start = table.c[names["start"]]
            lower: Any = self._bound(cursor, start, self.overlap) if cursor else None
            inclusive = True
            while True:
                stmt = select(table).order_by(start).limit(self.batch_size)
                if lower is not None:
                    stmt = stmt.where(start >= lower if inclusive else start > lower)
                rows = await self._fetch(engine, stmt)
                if not rows:
                    return
                last = rows[-1][names["start"]]
                if len(rows) == self.batch_size:
                    rows += await self._fetch(
                        engine, select(table).where(start == last)
                    )
                yield Batch([self._row(r, names) for r in rows], as_text(last))
                if len(rows) < self.batch_size:
                    return
                lower, inclusive = last, False
        finally:
            await engine.dispose()

    async def window(
        self, since: datetime, until: datetime
    ) -> AsyncIterator[list[SourceRow]]:
        engine = create_async_engine(self.url)
        try:
            table, names = await self._reflect(engine)
            start = table.c[names["start"]]
            stmt = (
                select(table)
                .where(
                    start >= self._local(since, start),
                    start < self._local(until, start),
                )
                .order_by(start)
            )
            rows = await self._fetch(engine, stmt)
            for i in range(0, len(rows), self.batch_size):
                yield [self._row(r, names) for r in rows[i : i + self.batch_size]]
        finally:
            await engine.dispose()

    async def _reflect(self, engine: AsyncEngine) -> tuple[Table, dict[str, str]]:
        try:
            async with engine.connect() as conn:
                table = await conn.run_sync(self._load_table)
        except SQLAlchemyError as exc:
            raise SourceUnavailable(f"table {self.table_name}: {_why(exc)}") from None
        by_lower = {c.name.lower(): c.name for c in table.columns}
        names = {
            std: by_lower[alias]
            for std, aliases in ALIASES.items()
            for alias in reversed(aliases)
            if alias in by_lower
        }
        if "start" not in names:
            raise SourceUnavailable(f"table {self.table_name} has no calldate/start")
        return table, names

    def _load_table(self, sync: Connection) -> Table:
        table = Table(self.table_name, MetaData(), autoload_with=sync)
        if sync.dialect.name != "sqlite":
            return table
        # SQLite keeps times as whatever text the PBX wrote ("09:00:00" or
        # "09:00:00.000"); compare that text, never SQLAlchemy's own rendering.
        start = next(
            (c.name for c in table.columns if c.name.lower() in ALIASES["start"]), None
        )
        if start is None:
            return table
        return Table(
            self.table_name,
            MetaData(),
            Column(start, Text),
            autoload_with=sync,
            extend_existing=True,
        )

    async def _fetch(self, engine: AsyncEngine, stmt: Any) -> list[dict[str, Any]]:
        try:
            async with engine.connect() as conn:
                result = await conn.execute(stmt)
                return [dict(r._mapping) for r in result]
        except SQLAlchemyError as exc:
            raise SourceUnavailable(f"table {self.table_name}: {_why(exc)}") from None

    def _row(self, row: Mapping[str, Any], names: Mapping[str, str]) -> SourceRow:
        return standard_row(row)

    def _bound(self, cursor: str, column: Column[Any], overlap: timedelta) -> Any:
        when = datetime.fromisoformat(cursor) - overlap
        return when.strftime(_TEXT_TIME) if _is_text(column) else when

    def _local(self, moment: datetime, column: Column[Any]) -> Any:
        local = moment.astimezone(self.zone).replace(tzinfo=None)
        return local.strftime(_TEXT_TIME) if _is_text(column) else local


def _is_text(column: Column[Any]) -> bool:
    try:
        return column.type.python_type is str
    except NotImplementedError:
        return True


def _async_url(url: str) -> str:
    parsed = make_url(url)
    driver = _ASYNC_DRIVERS.get(parsed.drivername)
    return parsed.set(drivername=driver).render_as_string(False) if driver else url


def _why(exc: SQLAlchemyError) -> str:
    # The class name and first line only: driver messages may echo the URL.
    first = str(exc.orig if hasattr(exc, "orig") else exc).splitlines()[0:1]
    return f"{type(exc).__name__}: {first[0][:200] if first else ''}"
