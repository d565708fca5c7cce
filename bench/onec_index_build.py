"""Contact index build from a 1C base of 100,000 counterparties (target <= 10 s).

1C runs as its own process (`python -m bridge.onec.demo`, the fake publication
over a real socket), as a real 1C server would, but on the same 2 cores, so its
JSON encoding still competes with us. Each run builds into a fresh SQLite file,
then rebuilds incrementally against a later state of the same base where 1% of
the counterparties changed (only `Ref_Key`/`DataVersion` are read in full). The
timed span includes loading the in-memory index.

    .venv/bin/python -m bench.onec_index_build [--counterparties N] [--runs N]
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import aiohttp

from bridge.onec.config import OneCConfig, PhoneOwners
from bridge.onec.contact_index import ContactIndex
from bridge.onec.index_build import BuildReport, IndexBuilder
from bridge.onec.odata import ODataClient
from bridge.storage import migrate
from bridge.storage.database import Database

TARGET_SECONDS = 10.0
START_DEADLINE = 300.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def fake_1c(counterparties: int, seed: int, touch: float) -> AsyncIterator[str]:
    port = free_port()
    proc = subprocess.Popen(  # noqa: ASYNC220 - a long-lived child, not awaited
        [
            sys.executable,
            "-m",
            "bridge.onec.demo",
            "--port",
            str(port),
            "--seed",
            str(seed),
            "--counterparties",
            str(counterparties),
            "--touch-percent",
            str(touch),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/demo/odata/standard.odata/"
    try:
        await wait_ready(url)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


async def wait_ready(url: str) -> None:
    deadline = time.monotonic() + START_DEADLINE
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            try:
                async with http.get(url + "$metadata") as resp:
                    if resp.status in (200, 401):
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)  # polling another process, with a deadline
    raise TimeoutError("fake 1C did not start")


async def build(
    db: Database, url: str
) -> tuple[BuildReport, float, float, ContactIndex]:
    config = OneCConfig(
        odata_url=url, username="odata", contact_persons=PhoneOwners(enabled=False)
    )
    now = datetime.now(UTC)
    index = ContactIndex(db)
    password = "secret"  # noqa: S105 - the demo server's default
    async with ODataClient(url, username="odata", password=password) as client:
        started, cpu = time.perf_counter(), time.process_time()
        report = await IndexBuilder(db, client, config).build(now)
        await index.load(now)
        wall = time.perf_counter() - started
        return report, wall, time.process_time() - cpu, index


def lookup_seconds(index: ContactIndex) -> float:
    numbers = list(index._snapshot.by_number)[:10_000]
    for number in numbers:  # first pass fills the normalization cache
        index.match(number)
    started = time.perf_counter()
    for number in numbers:
        assert index.match(number) is not None
    return (time.perf_counter() - started) / len(numbers)


async def one_run(
    counterparties: int, folder: Path, run: int
) -> tuple[float, float, float, float]:
    db = Database(f"sqlite+aiosqlite:///{folder / f'run{run}.db'}")
    await migrate.upgrade(db)
    try:
        async with fake_1c(counterparties, run, 0) as url:
            report, full, cpu, index = await build(db, url)
        assert report.examined == counterparties, report
        async with fake_1c(counterparties, run, 1) as url:
            again, incremental, _, index = await build(db, url)
        assert again.changed == counterparties // 100, again
        print(
            f"run {run + 1}: full {full:.2f} s (our CPU {cpu:.2f} s; "
            f"{report.numbers} numbers, {report.malformed} malformed), "
            f"incremental {incremental:.2f} s"
        )
        return full, incremental, lookup_seconds(index), cpu
    finally:
        await db.dispose()


async def main(counterparties: int, runs: int) -> None:
    results: list[tuple[float, float, float, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(runs):
            results.append(await one_run(counterparties, Path(tmp), run))  # noqa: PERF401
    full = statistics.median(r[0] for r in results)
    verdict = "met" if full <= TARGET_SECONDS else "MISSED"
    print(
        f"median full build, {counterparties} counterparties: {full:.2f} s "
        f"(target <= {TARGET_SECONDS:g} s: {verdict})"
    )
    cpu = statistics.median(r[3] for r in results)
    print(f"median CPU time of the bridge process in the full build: {cpu:.2f} s")
    print(
        f"median incremental build (1% changed): "
        f"{statistics.median(r[1] for r in results):.2f} s"
    )
    print(
        f"median warm lookup: {statistics.median(r[2] for r in results) * 1e6:.2f} us"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--counterparties", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main(args.counterparties, args.runs))
