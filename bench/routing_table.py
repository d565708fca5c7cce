"""Routing-table benchmarks (issue 8): the build, one incremental day, reading a client.

    .venv/bin/python -m bench.routing_table [--documents N] [--clients M] [--url URL]

Targets: a build from 10,000,000 documents over 1,000,000 clients <= 60 s; an
incremental run over one day's documents <= 1 s; an IVR answer with a warm cache
p99 <= 20 ms at 100 requests/s (over real HTTP, see `bench.ivr_answer`).

Everything goes through the `routing_table` job as the scheduler runs it: the build
is its first run over a source holding every document, in date order and in pages
of 5,000 as the journal source reads them; a day is a later run after a day's
documents were added. The process's collector is tuned as `telebridge serve` tunes
it. Rankings are computed when read, so the time to read and rank one client is
printed too. SQLite in a temporary folder unless `--url` names a database.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bridge.clock import FakeClock
from bridge.service import tune_garbage_collector
from bridge.storage import migrate
from bridge.storage.database import Database
from jobs.base import JobContext
from jobs.routing_table.job import Batch, RoutingTableJob
from jobs.routing_table.ranking import DocumentType, Interaction
from jobs.routing_table.store import RoutingStore
from jobs.routing_table.table import RoutingTable

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
PAGE = 5000  # as `JournalCalls` reads the journal
TYPES = {
    "calls": DocumentType("calls", 1.0, timedelta(days=90)),
    "orders": DocumentType("orders", 5.0, timedelta(days=30)),
}


def documents(
    count: int, clients: int, end: datetime, days: int, seed: int = 7
) -> list[Interaction]:
    """`count` documents over the `days` before `end`, in date order."""
    rnd = random.Random(seed)
    employees = [str(200 + i) for i in range(300)]
    span = days * 86400
    offsets = sorted((rnd.randrange(span) for _ in range(count)), reverse=True)
    docs = []
    for offset in offsets:
        client = rnd.randrange(clients)
        # Each client mostly deals with a few employees, as in real offices.
        employee = employees[(client * 7 + rnd.randrange(3)) % len(employees)]
        doc_type = "calls" if rnd.random() < 0.8 else "orders"
        at = end - timedelta(seconds=offset)
        docs.append(Interaction(f"+7916{client:07d}", employee, doc_type, at))
    return docs


class Pages:
    """A document source read from a position as the journal is; only the
    documents not yet read are kept in memory."""

    name = "calls"

    def __init__(self) -> None:
        self.documents: list[Interaction] = []
        self.base = 0  # position of documents[0]

    def replace(self, documents: list[Interaction]) -> None:
        """The documents after everything read so far."""
        self.base += len(self.documents)
        self.documents = documents

    async def read(self, position: str) -> AsyncIterator[Batch]:
        start = int(position or 0) - self.base
        for offset in range(start, len(self.documents), PAGE):
            page = self.documents[offset : offset + PAGE]
            yield Batch(page, str(self.base + offset + len(page)))
            await asyncio.sleep(0)  # a real source awaits its database here


async def nobody() -> frozenset[str]:
    return frozenset()


async def run(
    count: int, clients: int, day_docs: int, repeats: int, url: str | None
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        db = Database(url or f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}")
        try:
            await migrate.upgrade(db)
            await measure(RoutingStore(db), count, clients, day_docs, repeats)
        finally:
            await db.dispose()


async def measure(
    store: RoutingStore, count: int, clients: int, day_docs: int, repeats: int
) -> None:
    clock = FakeClock(NOW)
    source = Pages()
    job = RoutingTableJob(store, [source], TYPES, clock)
    source.replace(documents(count, clients, NOW, 90))
    tune_garbage_collector()
    started = time.perf_counter()
    report = await job(JobContext("routing_table", NOW))
    build = time.perf_counter() - started
    rows = await store.contribution_count()
    print(
        f"build (first run): {report.counters['documents']:,} documents, "
        f"{clients:,} clients -> {rows:,} contributions in {build:.1f} s",
        flush=True,
    )
    await read_latency(store, clients, clock)
    timings = []
    for day in range(repeats):
        clock.advance(86400)
        source.replace(documents(day_docs, clients, clock.now(), 1, seed=100 + day))
        started = time.perf_counter()
        report = await job(JobContext("routing_table", clock.now()))
        timings.append(time.perf_counter() - started)
        assert report.counters["documents"] == day_docs
    print(
        f"incremental day: {day_docs:,} new documents; median "
        f"{statistics.median(timings):.2f} s over {repeats} runs "
        f"(min {min(timings):.2f}, max {max(timings):.2f})",
        flush=True,
    )
    await read_latency(store, clients, clock)


async def read_latency(store: RoutingStore, clients: int, clock: FakeClock) -> None:
    """What an IVR answer pays for its ranking: read one client's contributions
    and rank them, for 2,000 random known clients."""
    table = RoutingTable(store, TYPES, clock, nobody)
    rnd = random.Random(11)
    timings = []
    for _ in range(2000):
        client = f"+7916{rnd.randrange(clients):07d}"
        started = time.perf_counter()
        await table.ranking(client)
        timings.append(time.perf_counter() - started)
    timings.sort()
    print(
        f"read and rank one client: p50 {timings[1000] * 1000:.2f} ms, "
        f"p99 {timings[1980] * 1000:.2f} ms",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--documents", type=int, default=10_000_000)
    parser.add_argument("--clients", type=int, default=1_000_000)
    parser.add_argument(
        "--day-documents",
        type=int,
        default=0,
        help="documents in one incremental day (default: documents/90)",
    )
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--url", help="a database URL instead of a fresh SQLite")
    args = parser.parse_args()
    day = args.day_documents or max(1, args.documents // 90)
    asyncio.run(run(args.documents, args.clients, day, args.repeats, args.url))


if __name__ == "__main__":
    main()
