"""Call-journal benchmarks: CDR rows/s into SQLite and PostgreSQL, a 1,000-seat day,
and the history query by number over a large journal.

    .venv/bin/python -m bench.cdr_loader [--rows 200000] [--journal 1000000]
        [--prefill 0] [--pg postgresql+psycopg://postgres@127.0.0.1:5432/test]

Prints medians. Rows are realistic Master.csv lines (tests' generator: incoming
answered/missed, outgoing, internal). The load figure is end to end: read the file,
parse, map (phonenumbers), insert with ON CONFLICT, commit the checkpoint. Each
measured run starts with the number caches empty, as a fresh process would.

The load figures start from an empty journal; `--prefill N` adds one more: a
new day of `--rows` pooled rows at a time loaded into a journal already holding
N legs of the year before, as a loader in service meets it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Table, delete, text
from sqlalchemy.ext.asyncio import create_async_engine

from bridge.clock import FakeClock
from bridge.journal import query, store
from bridge.journal.legs import JournalLeg
from bridge.journal.models import CallLeg, CdrCheckpoint
from bridge.journal.query import CallFilter
from bridge.phone_numbers import normalize
from bridge.service import tune_garbage_collector
from bridge.storage import migrate
from bridge.storage.database import Database
from jobs.base import JobContext
from jobs.cdr_loader import mapping
from jobs.cdr_loader.loader import CdrLoader
from jobs.cdr_loader.mapping import RowMapper, map_row
from jobs.cdr_loader.records import SourceRow
from jobs.cdr_loader.sources import csv_master
from jobs.cdr_loader.sources.csv_master import MasterCsvSource
from jobs.cdr_loader.table_mapping import TableMapper
from tests.jobs.cdr_loader.cdr_data import day, master_csv

MSK = ZoneInfo("Europe/Moscow")
T0 = datetime(2026, 1, 5, 8, 0)
NOW = datetime(2026, 1, 6, tzinfo=UTC)
DAY_ROWS = 47_000
# A day's callers are mostly repeat callers: 10,000 distinct external numbers.
CLIENT_POOL = 10_000
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
QUERIES = 300


async def open_db(kind: str, tmp: Path, pg_url: str) -> tuple[Database, str | None]:
    if kind == "sqlite":
        return Database(f"sqlite+aiosqlite:///{tmp / f'{uuid.uuid4().hex}.db'}"), None
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    await _admin(pg_url, f'CREATE SCHEMA "{schema}"')
    return Database(pg_url, connect_args={"options": f"-csearch_path={schema}"}), schema


async def _admin(pg_url: str, sql: str) -> None:
    engine = create_async_engine(pg_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(sql))
    finally:
        await engine.dispose()


@contextlib.asynccontextmanager
async def migrated_db(kind: str, tmp: Path, pg_url: str) -> AsyncIterator[Database]:
    """A new database of `kind` at the newest schema, removed afterwards."""
    db, schema = await open_db(kind, tmp, pg_url)
    try:
        await migrate.upgrade(db)
        yield db
    finally:
        await db.dispose()
        if schema:
            await _admin(pg_url, f'DROP SCHEMA "{schema}" CASCADE')


async def load_once(kind: str, csv_path: Path, tmp: Path, pg_url: str) -> float:
    async with migrated_db(kind, tmp, pg_url) as db:
        return await timed_load(db, csv_path)


async def timed_load(db: Database, csv_path: Path, now: datetime = NOW) -> float:
    """One loader run over the file from no checkpoint, every row new."""
    async with db.engine.begin() as conn:
        await conn.execute(delete(CdrCheckpoint))
    source = MasterCsvSource(csv_path, batch_size=5000, zone=MSK)
    loader = CdrLoader(db, source, zone=MSK, clock=FakeClock(now))
    cold()
    started = time.perf_counter()
    report = await loader(JobContext("cdr_loader", now))
    elapsed = time.perf_counter() - started
    assert report.counters["rejected"] == 0, report
    assert report.counters["duplicates"] == 0, report
    return elapsed


def cold() -> None:
    """Forget parsed numbers: every measured run starts like a fresh process."""
    mapping.normalize.cache_clear()
    mapping.number_type.cache_clear()


def mapping_rate(rows: list[dict[str, str]]) -> float:
    """The row rules alone (other sources, and lines off the plain layout)."""
    cold()
    started = time.perf_counter()
    for row in rows:
        map_row(SourceRow(row, row), "csv", MSK)
    return len(rows) / (time.perf_counter() - started)


def columns_rate(rows: list[dict[str, str]]) -> float:
    """Master.csv lines into journal rows the way the loader maps them: the
    plain lines as columns, in batches of 5,000."""
    lines = master_csv(rows).splitlines()
    cold()
    tables = TableMapper(RowMapper("csv", MSK))
    started = time.perf_counter()
    for start in range(0, len(lines), 5000):
        batch = csv_master.parse_batch(lines[start : start + 5000], "")
        assert batch.table is not None
        assert not batch.rows
        tables.map(batch.table)
    return len(rows) / (time.perf_counter() - started)


async def fill_journal(db: Database, total: int) -> list[str]:
    """`total` legs spread over a year: 20,000 clients, 300 extensions.

    The secondary indexes are built after the rows are in (as a bulk import
    would), so ten million rows take minutes, not hours; the queries measured
    afterwards see the same indexes as a journal grown row by row.
    """
    table = CallLeg.__table__
    assert isinstance(table, Table)
    async with db.engine.begin() as conn:
        for index in table.indexes:
            await conn.execute(text(f"DROP INDEX {index.name}"))
    clients = [f"+7916{n:07d}" for n in random.Random(3).sample(range(10**7), 20_000)]
    await _fill(db, total, clients)
    async with db.engine.begin() as conn:
        for index in table.indexes:
            await conn.run_sync(index.create)
        if not db.is_sqlite:
            await conn.execute(text("ANALYZE call_legs"))
    return clients


async def _fill(db: Database, total: int, clients: list[str]) -> None:
    template = [
        leg
        for row in day(T0, 4)
        if isinstance(leg := map_row(SourceRow(row, row), "csv", MSK), JournalLeg)
    ]
    rnd = random.Random(7)
    chunk: list[JournalLeg] = []
    for i in range(total):
        client = clients[rnd.randrange(len(clients))]
        ext = str(200 + rnd.randrange(300))
        started = datetime(2025, 1, 6, tzinfo=UTC) + timedelta(
            seconds=31 * i % 31_536_000
        )
        chunk.append(
            replace(
                template[i % 4],
                leg_key=f"b{i}", linkedid=f"b{i}", started_at=started,
                ended_at=started + timedelta(seconds=60), employee=ext,
                external_number=client if i % 4 != 3 else "",
                src_key=client[-10:] if i % 4 < 2 else ext,
                dst_key=ext if i % 4 < 2 else (client[-10:] if i % 4 == 2 else "299"),
                raw={},
            )
        )  # fmt: skip
        if len(chunk) == 50_000:
            async with db.engine.begin() as conn:
                await store.insert_legs(conn, chunk)
            chunk = []
    if chunk:
        async with db.engine.begin() as conn:
            await store.insert_legs(conn, chunk)


async def query_latencies(db: Database, clients: list[str]) -> list[float]:
    rnd = random.Random(11)
    times: list[float] = []
    async with db.engine.connect() as conn:
        for _ in range(QUERIES):
            number = normalize(clients[rnd.randrange(len(clients))])
            flt = CallFilter(
                since=datetime(2025, 1, 1, tzinfo=UTC),
                until=datetime(2027, 1, 1, tzinfo=UTC),
                numbers=(number,),
            )
            started = time.perf_counter()
            await query.page(conn, flt, limit=100, offset=0)
            times.append((time.perf_counter() - started) * 1000)
    return times


def out(line: str) -> None:
    print(line, flush=True)


def p(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))]


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    # Legs in the journal for the query figure; 0 skips it.
    parser.add_argument("--journal", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--engines", default="sqlite,postgresql", help="comma-separated engines"
    )
    parser.add_argument(
        "--no-load", action="store_true", help="only the history query figure"
    )
    # Legs already in the journal for the load into a used journal; 0 skips it.
    parser.add_argument("--prefill", type=int, default=0)
    parser.add_argument("--pg", default=PG_URL)
    args = parser.parse_args()
    tune_garbage_collector()  # the loader runs inside `telebridge serve`
    engines = args.engines.split(",")
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        if not args.no_load:
            await load_benchmarks(tmp, engines, args)
        for kind in engines if args.prefill and not args.no_load else ():
            await prefilled_load_figure(kind, tmp, args)
        for kind in engines if args.journal else ():
            await query_figures(kind, tmp, args)


async def load_benchmarks(
    tmp: Path, engines: list[str], args: argparse.Namespace
) -> None:
    files = {}
    for label, pool in (("pooled numbers", CLIENT_POOL), ("unique numbers", None)):
        rows = list(day(T0, args.rows, clients=pool or 9_000_000))
        path = tmp / f"{label.split()[0]}.csv"
        path.write_text(master_csv(rows), encoding="utf-8")
        day_path = tmp / f"{label.split()[0]}-day.csv"
        day_path.write_text(master_csv(rows[:DAY_ROWS]), encoding="utf-8")
        files[label] = (path, day_path)
        rates = [mapping_rate(rows[:50_000]) for _ in range(args.repeat)]
        out(f"row mapping only, {label}: {statistics.median(rates):,.0f} rows/s")
        rates = [columns_rate(rows[:50_000]) for _ in range(args.repeat)]
        out(f"column mapping only, {label}: {statistics.median(rates):,.0f} rows/s")
    for kind in engines:
        for label, (path, day_path) in files.items():
            await load_figures(kind, label, path, day_path, tmp, args)


async def load_figures(
    kind: str,
    label: str,
    path: Path,
    day_path: Path,
    tmp: Path,
    args: argparse.Namespace,
) -> None:
    loads = [await load_once(kind, path, tmp, args.pg) for _ in range(args.repeat)]
    days = [await load_once(kind, day_path, tmp, args.pg) for _ in range(args.repeat)]
    median = statistics.median(loads)
    out(
        f"{kind}, {label}: load {args.rows:,} rows: median {median:.2f} s"
        f" = {args.rows / median:,.0f} rows/s"
    )
    # A run with fewer --rows loads a short day: say so.
    day_rows = min(args.rows, DAY_ROWS)
    out(
        f"{kind}, {label}: 1,000-seat day ({day_rows:,} rows): "
        f"median {statistics.median(days):.2f} s"
    )


async def prefilled_load_figure(kind: str, tmp: Path, args: argparse.Namespace) -> None:
    """Each repeat loads the next day (new ids, later times) into the same
    journal, which grows by `--rows` legs a run."""
    loads = []
    async with migrated_db(kind, tmp, args.pg) as db:
        await fill_journal(db, args.prefill)
        for run in range(args.repeat):
            start = T0 + timedelta(days=run)
            rows = day(start, args.rows, seed_base=1800000000 + run * 10**7,
                       clients=CLIENT_POOL)  # fmt: skip
            path = tmp / f"prefilled-{run}.csv"
            path.write_text(master_csv(list(rows)), encoding="utf-8")
            loads.append(await timed_load(db, path, now=NOW + timedelta(days=run)))
    median = statistics.median(loads)
    out(
        f"{kind}, pooled numbers, into {args.prefill:,} legs: load "
        f"{args.rows:,} rows: median {median:.2f} s = {args.rows / median:,.0f} rows/s"
    )


async def query_figures(kind: str, tmp: Path, args: argparse.Namespace) -> None:
    async with migrated_db(kind, tmp, args.pg) as db:
        started = time.perf_counter()
        clients = await fill_journal(db, args.journal)
        fill = time.perf_counter() - started
        times = await query_latencies(db, clients)
    out(
        f"{kind}: history by number over {args.journal:,} legs "
        f"(filled in {fill:.0f} s): p50 {p(times, 0.5):.1f} ms, "
        f"p99 {p(times, 0.99):.1f} ms ({QUERIES} queries)"
    )


if __name__ == "__main__":
    asyncio.run(main())
