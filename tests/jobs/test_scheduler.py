"""The scheduler: APScheduler driving the runner; leadership; exactly once on PG.

These tests run the real `AsyncIOScheduler` on the wall clock with a schedule that
fires every second, and await the run rows under a deadline (no sleeping).
"""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from bridge.storage import migrate
from bridge.storage.database import Database
from jobs.base import JobBody, JobContext, JobOutcome, JobReport
from jobs.catalog import SPECS
from jobs.config import JobsConfig
from jobs.leader import FileLock, PgAdvisoryLock
from jobs.models import JobRun
from jobs.runner import JobRunner
from jobs.schedule import JobScheduler
from jobs.schedule_model import Schedule, WeekDay
from jobs.windows import window_bodies
from tests.conftest import PG_URL, PgSchema
from tests.jobs.conftest import make_runner

EVERY_SECOND = Schedule(repeat_period_seconds=1)


class FireLog:
    """Counts body calls per fire time and wakes the test after `want` fires."""

    def __init__(self, want: int) -> None:
        self.calls: list[datetime] = []
        self.want = want
        self.enough = asyncio.Event()

    async def __call__(self, ctx: JobContext) -> JobReport:
        self.calls.append(ctx.scheduled_for)
        if len(set(self.calls)) >= self.want:
            self.enough.set()
        return JobReport(JobOutcome.OK)


class AlwaysGranted:
    """A lock that never refuses: lets two schedulers run at once on purpose."""

    async def acquire(self) -> bool:
        return True

    async def still_held(self) -> bool:
        return True

    async def release(self) -> None:
        return None


async def only_cdr_every_second(runner: JobRunner) -> None:
    await runner.load()
    for job_id in SPECS:
        await runner.update(job_id, enabled=False)
    await runner.update("cdr_loader", enabled=True, schedule=EVERY_SECOND)


async def recorded_runs(db: Database) -> list[datetime]:
    async with db.session() as session:
        rows = await session.scalars(
            select(JobRun.scheduled_for).where(JobRun.job_id == "cdr_loader")
        )
        return list(rows)


@pytest.fixture
async def pg_pair():
    """Two databases (two instances) on one PostgreSQL schema."""
    schema = PgSchema()
    await schema.create()
    a = Database(PG_URL, connect_args=schema.connect_args)
    b = Database(PG_URL, connect_args=schema.connect_args)
    try:
        await migrate.upgrade(a)
        yield a, b
    finally:
        await a.dispose()
        await b.dispose()
        await schema.drop()


async def run_pair(a: JobScheduler, b: JobScheduler, fires: FireLog) -> None:
    await a.tick()
    await b.tick()
    try:
        async with asyncio.timeout(15):
            await fires.enough.wait()
    finally:
        await a.stop()
        await b.stop()


@pytest.mark.postgres
async def test_two_schedulers_on_postgresql_one_leads_and_every_fire_runs_once(
    pg_pair,
):
    db_a, db_b = pg_pair
    key = random.randrange(1, 2**31)
    fires = FireLog(want=3)
    runner_a = make_runner(db_a, {"cdr_loader": fires}, instance="a")
    runner_b = make_runner(db_b, {"cdr_loader": fires}, instance="b")
    await only_cdr_every_second(runner_a)
    await runner_b.load()
    a = JobScheduler(runner_a, PgAdvisoryLock(db_a, key), refresh_seconds=60)
    b = JobScheduler(runner_b, PgAdvisoryLock(db_b, key), refresh_seconds=60)

    await a.tick()
    await b.tick()
    assert a.is_leader
    assert not b.is_leader
    assert (await b.status()).data == {"role": "standby"}
    await run_pair(a, b, fires)

    runs = sorted(await recorded_runs(db_a))
    assert len(runs) >= 3
    assert sorted(fires.calls) == runs  # each fire's body ran exactly once
    # All on the leader; whole seconds of the schedule. (Gaps are not asserted: a
    # loop stalled past the 1 s grace coalesces fires, which is the intended rule.)
    assert {r.instance for r in await runner_a.runs("cdr_loader", 100)} == {"a"}
    assert all(r.microsecond == 0 for r in runs)


@pytest.mark.postgres
async def test_even_two_active_schedulers_run_each_fire_once(pg_pair):
    """The unique (job, scheduled time) row makes a double fire harmless."""
    db_a, db_b = pg_pair
    fires = FireLog(want=4)
    runner_a = make_runner(db_a, {"cdr_loader": fires}, instance="a")
    runner_b = make_runner(db_b, {"cdr_loader": fires}, instance="b")
    await only_cdr_every_second(runner_a)
    await runner_b.load()
    a = JobScheduler(runner_a, AlwaysGranted(), refresh_seconds=60)
    b = JobScheduler(runner_b, AlwaysGranted(), refresh_seconds=60)
    await run_pair(a, b, fires)
    runs = await recorded_runs(db_a)
    assert len(fires.calls) == len(set(fires.calls)) == len(runs)
    assert sorted(fires.calls) == sorted(runs)


@pytest.mark.postgres
async def test_standby_takes_over_when_the_leader_goes(pg_pair):
    db_a, db_b = pg_pair
    key = random.randrange(1, 2**31)
    a = JobScheduler(make_runner(db_a), PgAdvisoryLock(db_a, key), refresh_seconds=60)
    b = JobScheduler(make_runner(db_b), PgAdvisoryLock(db_b, key), refresh_seconds=60)
    await a.tick()
    await b.tick()
    assert (a.is_leader, b.is_leader) == (True, False)
    await a.stop()
    await b.tick()
    assert b.is_leader
    await b.stop()


async def test_file_lock_admits_one_holder(tmp_path: Path):
    first, second = FileLock(tmp_path / "l"), FileLock(tmp_path / "l")
    assert await first.acquire()
    assert not await second.acquire()
    await first.release()
    assert await second.acquire()
    await second.release()


async def test_changes_apply_to_the_running_scheduler_at_once(sqlite_db, tmp_path):
    runner = make_runner(sqlite_db)
    await runner.load()
    scheduler = JobScheduler(runner, FileLock(tmp_path / "l"), refresh_seconds=60)
    await scheduler.tick()
    try:
        assert scheduler.is_leader
        assert scheduler.next_run_time("cdr_loader") is not None
        await runner.update("cdr_loader", enabled=False)
        assert scheduler.next_run_time("cdr_loader") is None
        await runner.update("cdr_loader", enabled=True, schedule=EVERY_SECOND)
        nxt = scheduler.next_run_time("cdr_loader")
        assert nxt is not None
        assert nxt.microsecond == 0
    finally:
        await scheduler.stop()


async def test_disabled_scheduler_reports_so_and_never_leads(sqlite_db, tmp_path):
    runner = make_runner(sqlite_db)
    await runner.load()
    scheduler = JobScheduler(
        runner, FileLock(tmp_path / "l"), refresh_seconds=60, enabled=False
    )
    await scheduler.tick()
    assert not scheduler.is_leader
    assert "jobs.enabled" in (await scheduler.status()).detail


@pytest.mark.postgres
async def test_a_lost_lock_connection_stands_down_and_recovers(pg_pair):
    db_a, db_b = pg_pair
    key = random.randrange(1, 2**31)
    a = JobScheduler(make_runner(db_a), PgAdvisoryLock(db_a, key), refresh_seconds=60)
    await a.tick()
    assert a.is_leader
    async with db_b.engine.connect() as conn:
        pid = await conn.scalar(
            text(
                "SELECT pid FROM pg_locks WHERE locktype = 'advisory' "
                "AND classid = 0 AND objid = :k"
            ),
            {"k": key},
        )
        assert pid is not None
        await conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
    await a.tick()
    assert (await a.status()).data == {"role": "standby"}
    await a.tick()
    assert (await a.status()).data == {"role": "leader"}
    assert (await a.status()).state == "ok"
    await a.stop()


async def test_the_scheduler_fires_and_records_on_sqlite(sqlite_db, tmp_path):
    fires = FireLog(want=2)
    runner = make_runner(sqlite_db, {"cdr_loader": fires})
    await only_cdr_every_second(runner)
    scheduler = JobScheduler(runner, FileLock(tmp_path / "l"), refresh_seconds=60)
    await scheduler.tick()
    try:
        async with asyncio.timeout(15):
            await fires.enough.wait()
    finally:
        await scheduler.stop()
    runs = await runner.runs("cdr_loader", 10)
    assert len(runs) >= 2
    assert {r.outcome for r in runs} == {"ok"}
    assert {r.trigger for r in runs} == {"schedule"}
    assert sorted(r.scheduled_for for r in runs) == sorted(fires.calls)


async def test_a_scheduler_started_mid_window_records_the_opening(sqlite_db, tmp_path):
    """Wall-clock based: the window is "today, all day", so it opened at midnight."""
    zone = JobsConfig().zone
    today = datetime.now(zone)
    weekday = list(WeekDay)[today.weekday()]
    bodies: dict[str, JobBody] = {}
    runner = make_runner(sqlite_db, bodies)
    await runner.load()
    for job_id in SPECS:
        await runner.update(job_id, enabled=job_id == "events_exchange")
    await runner.update("events_exchange", schedule=Schedule(week_days=(weekday,)))
    opened = asyncio.Event()
    edge_body = window_bodies(runner)["events_exchange"]

    async def body(ctx: JobContext) -> JobReport:
        report = await edge_body(ctx)
        opened.set()
        return report

    bodies["events_exchange"] = body
    scheduler = JobScheduler(runner, FileLock(tmp_path / "l"), refresh_seconds=60)
    await scheduler.tick()
    try:
        async with asyncio.timeout(10):
            await opened.wait()
    finally:
        await scheduler.stop()
    [run] = await runner.runs("events_exchange", 10)
    midnight = today.replace(hour=0, minute=0, second=0, microsecond=0)
    assert run.scheduled_for == midnight.astimezone(UTC)
    assert run.message == "events channel open"


async def test_missed_fires_coalesce_into_one_run_at_the_newest_time():
    """Five fires missed (a stalled loop, a late start) make one run, not five."""
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    from jobs.schedule import ScheduleTrigger, _RunTimeExecutor

    calls: list[datetime] = []
    first = asyncio.Event()

    async def fire(job_id: str, scheduled_for: datetime | None = None) -> None:
        assert scheduled_for is not None
        calls.append(scheduled_for)
        first.set()

    zone = JobsConfig().zone
    fires: set[asyncio.Task[None]] = set()
    aps = AsyncIOScheduler(
        timezone=zone,
        executors={"default": _RunTimeExecutor(fires)},
        job_defaults={"coalesce": True, "max_instances": 1},
    )
    now = datetime.now(UTC).replace(microsecond=0)
    aps.start()
    try:
        aps.add_job(
            fire,
            ScheduleTrigger(EVERY_SECOND, zone, edges=False),
            args=["cdr_loader"],
            id="cdr_loader",
            misfire_grace_time=60,
            next_run_time=now - timedelta(seconds=5),
        )
        async with asyncio.timeout(5):
            await first.wait()
    finally:
        aps.shutdown(wait=False)
    assert calls[0] >= now  # the newest missed fire, not the oldest
    assert len(calls) == 1
