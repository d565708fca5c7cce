"""`contact_refresh` over 1,000,000 journal records (target <= 30 s).

The index is built first (untimed) from the fake 1C with 20,000 counterparties.
The journal is an in-memory `UnownedCalls`: 1,000,000 records, 60% with numbers
of indexed owners written the ways PBXs log them ("79161234567", "8916…",
"+7916…"), 40% drawn from 100,000 unknown numbers: about 250,000 distinct
texts, each normalized once per run. Writing the owners is the
journal's cost and is not part of this figure (set_owners only counts).

    .venv/bin/python -m bench.contact_refresh [--records N] [--runs N]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bridge.onec import contact_index
from bridge.onec.config import OneCConfig
from bridge.onec.contact_index import ContactIndex
from bridge.onec.demo.data import generate
from bridge.onec.index_build import IndexBuilder
from bridge.storage import migrate
from bridge.storage.database import Database
from jobs.contact_refresh.calls import Ownership, UnownedCall
from jobs.contact_refresh.refresh import fill_owners
from tests.fakes.onec import serving

TARGET_SECONDS = 30.0
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


class Journal:
    def __init__(self, numbers: list[str]) -> None:
        self.numbers = numbers
        self.filled = 0

    async def unowned(self, since: datetime) -> AsyncIterator[UnownedCall]:
        for record_id, number in enumerate(self.numbers):
            yield UnownedCall(record_id, number)

    async def set_owners(self, owners: Sequence[Ownership]) -> None:
        self.filled += len(owners)


def journal_numbers(index: ContactIndex, records: int, seed: int) -> list[str]:
    rnd = random.Random(seed)
    known = list(index._snapshot.by_number)
    styles = (lambda n: n[1:], lambda n: "8" + n[2:], lambda n: n)
    unknown = [
        f"7{rnd.randrange(900_000_000, 999_999_999):010d}" for _ in range(100_000)
    ]
    out = []
    for _ in range(records):
        if rnd.random() < 0.6:
            out.append(rnd.choice(styles)(rnd.choice(known)))
        else:
            out.append(rnd.choice(unknown))
    return out


async def main(records: int, runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}")
        await migrate.upgrade(db)
        async with serving(generate(3, counterparties=20_000, calls=0)) as onec:
            config = OneCConfig(odata_url=onec.odata_url, username="odata")
            async with onec.client() as client:
                await IndexBuilder(db, client, config).build(NOW)
        index = ContactIndex(db)
        await index.load(NOW)
        await db.dispose()
    print(f"index: {index.size} numbers of {index.owners} owners")
    times = []
    for run in range(runs):
        journal = Journal(journal_numbers(index, records, run))
        contact_index._normalize.cache_clear()  # each run starts cold
        started = time.perf_counter()
        report = await fill_owners(index, journal, NOW - timedelta(days=90))
        elapsed = time.perf_counter() - started
        times.append(elapsed)
        assert report.examined == records
        assert journal.filled == report.filled
        print(
            f"run {run + 1}: {elapsed:.2f} s, examined {report.examined}, "
            f"filled {report.filled}, unknown {report.unknown}"
        )
    median = statistics.median(times)
    verdict = "met" if median <= TARGET_SECONDS else "MISSED"
    print(
        f"median contact_refresh over {records} records: {median:.2f} s "
        f"(target <= {TARGET_SECONDS:g} s: {verdict})"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main(args.records, args.runs))
