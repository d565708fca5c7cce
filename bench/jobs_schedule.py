"""Job runner costs: computing next fire times, and one recorded run on SQLite.

    .venv/bin/python -m bench.jobs_schedule

Prints medians. No relative target in the issue; these are figures for BENCHMARKS.md.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bridge.clock import SystemClock
from bridge.storage import migrate
from bridge.storage.database import Database
from jobs.base import JobContext, JobOutcome, JobReport
from jobs.catalog import CATALOG
from jobs.config import JobsConfig
from jobs.runner import JobRunner
from jobs.schedule_model import next_fire_time, window_edge_after

ZONE = ZoneInfo("Europe/Moscow")
WEEK_START = datetime(2026, 1, 5, tzinfo=UTC)
SAMPLES = 2000
RUNS = 300


def next_fire_medians() -> dict[str, float]:
    rng = random.Random(5)
    result = {}
    for spec in CATALOG:
        timings = []
        for _ in range(SAMPLES):
            at = WEEK_START + timedelta(seconds=rng.randrange(7 * 86400))
            began = time.perf_counter()
            if spec.kind.value == "window":
                window_edge_after(spec.default, ZONE, at)
            else:
                next_fire_time(spec.default, ZONE, at)
            timings.append(time.perf_counter() - began)
        result[spec.job_id] = statistics.median(timings) * 1e6
    return result


async def run_medians() -> float:
    async def body(_ctx: JobContext) -> JobReport:
        return JobReport(JobOutcome.OK)

    with tempfile.TemporaryDirectory() as folder:
        db = Database(f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}")
        try:
            await migrate.upgrade(db)
            runner = JobRunner(
                db,
                JobsConfig(),
                {"cdr_loader": body},
                clock=SystemClock(),
                instance="bench",
            )
            await runner.load()
            timings = []
            for i in range(RUNS):
                began = time.perf_counter()
                await runner.run("cdr_loader", WEEK_START + timedelta(seconds=i))
                timings.append(time.perf_counter() - began)
        finally:
            await db.dispose()
    return statistics.median(timings) * 1e3


def main() -> None:
    print(f"next fire time, median of {SAMPLES} random instants in a week (µs):")
    for job_id, micros in next_fire_medians().items():
        print(f"  {job_id:<27} {micros:8.1f}")
    millis = asyncio.run(run_medians())
    print(
        f"one recorded run on SQLite (claim + body + finish), median of {RUNS}: "
        f"{millis:.2f} ms"
    )


if __name__ == "__main__":
    main()
