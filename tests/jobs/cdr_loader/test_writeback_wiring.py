"""The write-back as the `cdr_loader` job body runs it: off by default, and when
on, its counts and 1C's trouble in the loader's run record."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp import web

from bridge.clock import FakeClock
from bridge.core import open_core
from bridge.storage import migrate
from jobs.base import JobContext, JobOutcome, JobReport
from jobs.cdr_loader.feature import JOB_ID, setup
from tests.conftest import make_config
from tests.fakes.onec import PASSWORD, USERNAME, RunningOneC, serving
from tests.jobs.cdr_loader.cdr_data import day, master_csv

NOW = datetime(2026, 1, 5, 12, tzinfo=UTC)
CTX = JobContext(JOB_ID, NOW)


@pytest.fixture
async def onec() -> AsyncIterator[RunningOneC]:
    async with serving() as running:
        yield running


async def run_job(tmp_path: Path, onec: RunningOneC, *, enabled: bool) -> JobReport:
    master = tmp_path / "Master.csv"
    master.write_text(master_csv(list(day(datetime(2026, 1, 5, 9), 8))))
    config = make_config(
        tmp_path,
        cdr={"source": "csv", "path": str(master)},
        onec={
            "odata_url": onec.odata_url,
            "username": USERNAME,
            "password": PASSWORD,
            "writeback": {"enabled": enabled},
        },
    )
    async with open_core(config, clock=FakeClock(NOW)) as core:
        await migrate.upgrade(core.db)
        setup(web.Application(), core)
        return await core.job_bodies[JOB_ID](CTX)


async def test_switched_off_nothing_is_sent(tmp_path: Path, onec: RunningOneC):
    report = await run_job(tmp_path, onec, enabled=False)
    assert report.counters["inserted"] == 8
    assert not any(name.startswith("writeback_") for name in report.counters)
    assert onec.fake.requests == 0


async def test_switched_on_the_run_record_counts_the_documents(
    tmp_path: Path, onec: RunningOneC
):
    report = await run_job(tmp_path, onec, enabled=True)
    assert report.outcome is JobOutcome.OK
    # 8 calls in turn: answered, missed, outgoing, internal (not written).
    assert report.counters["writeback_created"] == 6
    assert report.counters["writeback_pending"] == 0
    assert report.message == ""


async def test_1c_down_keeps_the_load_ok_and_says_why(
    tmp_path: Path, onec: RunningOneC
):
    onec.fake.faults.down = True
    report = await run_job(tmp_path, onec, enabled=True)
    assert report.outcome is JobOutcome.OK  # the journal loaded
    assert report.counters["inserted"] == 8
    assert report.counters["writeback_pending"] == 6
    assert report.message.startswith("1C write-back: ")
    assert PASSWORD not in report.message
