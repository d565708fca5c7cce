"""Routing-table benchmarks (issue 8): full build, one incremental day, IVR answers.

    .venv/bin/python -m bench.routing_table [--documents N] [--clients M]

Targets: a build from 10,000,000 documents over 1,000,000 clients <= 60 s; an
incremental run over one day's documents <= 1 s; an IVR answer with a warm cache
p99 <= 20 ms at 100 requests/s (over real HTTP, see `bench.ivr_answer`).
Runs on SQLite in a temporary folder (or `--url`); prints medians of the repeated
parts, and the time to read and rank one client, since rankings are computed when
they are read.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bridge.clock import FakeClock
from bridge.storage import migrate
from bridge.storage.database import Database
from jobs.routing_table.ranking import DocumentType, Interaction
from jobs.routing_table.store import RoutingStore
from jobs.routing_table.table import RoutingTable

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
TYPES = {
    "calls": DocumentType("calls", 1.0, timedelta(days=90)),
    "orders": DocumentType("orders", 5.0, timedelta(days=30)),
}


def documents(count: int, clients: int, seed: int = 7) -> list[Interaction]:
    rnd = random.Random(seed)
    employees = [str(200 + i) for i in range(300)]
    docs = []
    for _ in range(count):
        client = rnd.randrange(clients)
        # Each client mostly deals with a few employees, as in real offices.
        employee = employees[(client * 7 + rnd.randrange(3)) % len(employees)]
        doc_type = "calls" if rnd.random() < 0.8 else "orders"
        at = NOW - timedelta(seconds=rnd.randrange(90 * 86400))
        docs.append(Interaction(f"+7916{client:07d}", employee, doc_type, at))
    return docs


async def nobody() -> frozenset[str]:
    return frozenset()


async def run(
    count: int, clients: int, day_docs: int, repeats: int, url: str | None
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        db = Database(url or f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}")
        try:
            await migrate.upgrade(db)
            store = RoutingStore(db)
            docs = documents(count, clients)
            started = time.perf_counter()
            rows = await store.rebuild(docs)
            build = time.perf_counter() - started
            print(
                f"full build: {count:,} documents, {clients:,} clients -> "
                f"{rows:,} contributions in {build:.1f} s",
                flush=True,
            )
            del docs
            await read_latency(store, clients, NOW)
            timings = []
            for day in range(repeats):
                new = documents(day_docs, clients, seed=100 + day)
                now = NOW + timedelta(days=day + 1)
                new = [
                    Interaction(
                        d.client,
                        d.employee,
                        d.doc_type,
                        now - timedelta(seconds=i % 86400),
                    )
                    for i, d in enumerate(new)
                ]
                started = time.perf_counter()
                await store.add(new)
                await store.prune(now - timedelta(days=97))
                timings.append(time.perf_counter() - started)
            print(
                f"incremental day: {day_docs:,} new documents; median "
                f"{statistics.median(timings):.2f} s over {repeats} runs "
                f"(min {min(timings):.2f}, max {max(timings):.2f})"
            )
            await read_latency(store, clients, NOW + timedelta(days=repeats))
        finally:
            await db.dispose()


async def read_latency(store: RoutingStore, clients: int, now: datetime) -> None:
    """What an IVR answer pays for its ranking: read one client's contributions
    and rank them, for 2,000 random known clients."""
    table = RoutingTable(store, TYPES, FakeClock(now), nobody)
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
