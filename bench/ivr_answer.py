"""IVR answers at call time over real HTTP, with a warm TTS cache (issue 8).

    .venv/bin/python -m bench.ivr_answer [--clients N] [--rate R] [--seconds S]

Target: p99 <= 20 ms at 100 requests/s. The service is built as `serve` builds it
(SQLite, offline espeak TTS) on a real port; its routing table holds N clients;
the routing job's pre-warm runs first, as it does after every run. Requests go
out open-loop at a fixed rate (a slow answer does not slow the sender), callers
drawn from known clients and unknown numbers. The load generator shares the
process and the machine, so the figures include its cost.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import aiohttp
from aiohttp import web

from bridge.app import build_app
from bridge.core import open_core
from bridge.storage import migrate
from jobs.routing_table.feature import ROUTING_JOB
from jobs.routing_table.ranking import DocumentType, Interaction
from jobs.routing_table.store import RoutingStore
from tests.conftest import ADMIN_TOKEN, make_config


async def seed(
    store: RoutingStore, clients: int, now: datetime, types: dict[str, DocumentType]
) -> None:
    rnd = random.Random(3)
    docs = [
        Interaction(
            f"+7916{c:07d}",
            str(200 + rnd.randrange(40)),
            "calls",
            now - timedelta(days=rnd.randrange(80)),
            1 + rnd.randrange(5),
        )
        for c in range(clients)
        for _ in range(3)
    ]
    await store.add(docs)  # an empty table: the build


async def run(clients: int, rate: float, seconds: float) -> None:
    with tempfile.TemporaryDirectory() as folder:
        config = make_config(Path(folder), ivr={"deadline_seconds": 5})
        async with open_core(config) as core:
            await migrate.upgrade(core.db)
            app = build_app(core)
            runner = web.AppRunner(app)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            url = f"http://127.0.0.1:{runner.addresses[0][1]}/api/v1/ivr"
            try:
                now = core.clock.now()
                types = config.routing.document_types_by_name()
                await seed(RoutingStore(core.db), clients, now, types)
                started = time.perf_counter()
                warmed = await app[ROUTING_JOB].prewarm()  # type: ignore[misc]
                print(
                    f"routing table: {clients:,} clients; pre-warm spoke {warmed} "
                    f"phrases in {time.perf_counter() - started:.1f} s"
                )
                await load(url, clients, rate, seconds)
            finally:
                await runner.cleanup()


async def load(url: str, clients: int, rate: float, seconds: float) -> None:
    rnd = random.Random(5)
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    latencies: list[float] = []
    fallbacks = 0

    async def one(session: aiohttp.ClientSession, number: str) -> None:
        nonlocal fallbacks
        t0 = time.perf_counter()
        async with session.get(url, params={"number": number}) as r:
            body = await r.json()
        latencies.append((time.perf_counter() - t0) * 1000)
        fallbacks += body["fallback"] is not None

    async with aiohttp.ClientSession(headers=headers) as session:
        # Warm-up: the first answer for each menu shape builds its whole prompt.
        for c in range(min(clients, 200)):
            await one(session, f"+7916{c:07d}")
        latencies.clear()
        tasks = []
        start = time.perf_counter()
        for i in range(int(rate * seconds)):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)  # pacing the sender, not synchronizing
            known = rnd.random() < 0.8
            number = (
                f"+7916{rnd.randrange(min(clients, 200)):07d}"
                if known
                else (f"+7999{rnd.randrange(10**7):07d}")
            )
            tasks.append(asyncio.create_task(one(session, number)))
        await asyncio.gather(*tasks)
    latencies.sort()

    def p(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))]

    print(
        f"IVR answers: {len(latencies)} at {rate:g}/s; p50 {p(0.5):.2f} ms, "
        f"p99 {p(0.99):.2f} ms, max {latencies[-1]:.2f} ms, "
        f"mean {statistics.mean(latencies):.2f} ms; fallbacks {fallbacks}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    asyncio.run(run(args.clients, args.rate, args.seconds))


if __name__ == "__main__":
    main()
