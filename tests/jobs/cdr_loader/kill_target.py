"""A loader process for the SIGKILL test: loads three batches, says so, then hangs
mid-run (as a loader stuck on a slow source would) until it is killed.

    python -m tests.jobs.cdr_loader.kill_target DB_URL MASTER_CSV MARKER
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bridge.clock import SystemClock
from bridge.storage.database import Database
from jobs.base import JobContext
from jobs.cdr_loader.loader import CdrLoader
from jobs.cdr_loader.records import Batch, SourceRow
from jobs.cdr_loader.sources.csv_master import MasterCsvSource

BATCHES_BEFORE_HANG = 3


class HangsAfter:
    def __init__(self, inner: MasterCsvSource, marker: Path) -> None:
        self.inner = inner
        self.name = inner.name
        self.marker = marker

    async def batches(self, cursor: str | None) -> AsyncIterator[Batch]:
        served = 0
        async for batch in self.inner.batches(cursor):
            if served == BATCHES_BEFORE_HANG:
                self.marker.write_text("hanging", encoding="utf-8")
                await asyncio.Event().wait()
            served += 1
            yield batch

    def window(
        self, since: datetime, until: datetime
    ) -> AsyncIterator[list[SourceRow]]:
        return self.inner.window(since, until)


async def main(url: str, master: str, marker: str) -> None:
    db = Database(url)
    zone = ZoneInfo("Europe/Moscow")
    source = MasterCsvSource(Path(master), batch_size=8, zone=zone)
    loader = CdrLoader(db, HangsAfter(source, Path(marker)), zone=zone,
                       clock=SystemClock())  # fmt: skip
    await loader(JobContext("cdr_loader", datetime.now(UTC)))


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
