"""The job body as the scheduler will call it from `core.job_bodies`."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from aiohttp import web

from bridge.clock import FakeClock
from bridge.core import open_core
from bridge.storage import migrate
from jobs.base import JobContext, JobOutcome
from jobs.cdr_loader.feature import JOB_ID, setup
from jobs.cdr_loader.loader import HISTORY_UPDATED
from tests.conftest import make_config
from tests.jobs.cdr_loader.cdr_data import day, master_csv
from tests.jobs.cdr_loader.fakes import Events

CTX = JobContext(JOB_ID, datetime(2026, 1, 5, 12, tzinfo=UTC))


async def test_not_configured_without_a_source(tmp_path: Path) -> None:
    async with open_core(make_config(tmp_path)) as core:
        setup(web.Application(), core)
        report = await core.job_bodies[JOB_ID](CTX)
    assert report.outcome is JobOutcome.NOT_CONFIGURED


async def test_uses_events_set_after_setup(tmp_path: Path) -> None:
    master = tmp_path / "Master.csv"
    master.write_text(master_csv(list(day(datetime(2026, 1, 5, 9), 8))))
    config = make_config(tmp_path, cdr={"source": "csv", "path": str(master)})
    async with open_core(config, clock=FakeClock()) as core:
        await migrate.upgrade(core.db)
        setup(web.Application(), core)
        events = Events()
        core.events = events  # the long-poll hub arrives later in FEATURES
        report = await core.job_bodies[JOB_ID](CTX)
    assert report.counters["inserted"] == 8
    assert events.published[0][0] == HISTORY_UPDATED
    assert events.published[0][1]["inserted"] == 8
