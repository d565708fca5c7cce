"""The runner on SQLite and PostgreSQL: claims, outcomes, overlap, history, settings."""

from __future__ import annotations

import asyncio
from datetime import time, timedelta

import pytest

from bridge.clock import FakeClock
from bridge.logs import SecretRedactor
from jobs.base import JobContext, JobReport
from jobs.config import JobsConfig, JobSeed
from jobs.records import RunTrigger
from jobs.runner import JobBusy, UnknownJob
from jobs.schedule_model import Schedule
from tests.jobs.conftest import T0, CountingBody, GatedBody, make_runner


async def test_settings_are_seeded_from_config_once(db):
    seeded = Schedule(begin_time=time(7, 0, 0), repeat_period_seconds=60)
    config = JobsConfig(seed={"cdr_loader": JobSeed(enabled=False, schedule=seeded)})
    runner = make_runner(db, config=config)
    await runner.load()
    assert runner.state("cdr_loader").enabled is False
    assert runner.state("cdr_loader").schedule == seeded
    assert runner.state("metrics").enabled is True
    assert len(runner.states()) == 7

    await runner.update("cdr_loader", enabled=True)
    again = make_runner(db, config=config)
    await again.load()
    assert again.state("cdr_loader").enabled is True  # the database wins now


async def test_a_run_is_recorded_with_its_times_and_counters(db):
    clock = FakeClock(T0)
    body = CountingBody()
    runner = make_runner(db, {"cdr_loader": body}, clock=clock)
    await runner.load()
    record = await runner.run("cdr_loader", T0)
    assert record is not None
    assert record.outcome == "ok"
    assert record.counters == {"rows": 3}
    assert record.scheduled_for == T0
    assert record.started_at == T0
    assert record.finished_at == T0
    assert record.trigger == "schedule"
    assert [r.id for r in await runner.runs("cdr_loader", 10)] == [record.id]


async def test_the_same_fire_time_runs_once(db):
    body = CountingBody()
    runner = make_runner(db, {"cdr_loader": body})
    await runner.load()
    assert await runner.run("cdr_loader", T0) is not None
    assert await runner.run("cdr_loader", T0) is None
    assert body.calls == [T0]
    assert len(await runner.runs("cdr_loader", 10)) == 1


async def test_a_job_without_a_body_is_recorded_as_not_configured(db):
    runner = make_runner(db)
    await runner.load()
    record = await runner.run("routing_table", T0)
    assert record is not None
    assert record.outcome == "not_configured"
    assert "routing_table" in record.message


async def test_a_failing_job_is_recorded_without_secrets_and_others_still_run(db):
    secret = "s3cr3t-password-value"

    async def broken(ctx: JobContext) -> JobReport:
        raise RuntimeError(f"login failed with {secret}")

    ok = CountingBody()
    runner = make_runner(
        db,
        {"cdr_loader": broken, "routing_table": ok},
        redactor=SecretRedactor([secret]),
    )
    await runner.load()
    failed, fine = await asyncio.gather(
        runner.run("cdr_loader", T0), runner.run("routing_table", T0)
    )
    assert failed is not None
    assert failed.outcome == "failed"
    assert "RuntimeError" in failed.message
    assert secret not in failed.message
    assert fine is not None
    assert fine.outcome == "ok"


async def test_a_job_never_overlaps_itself(db):
    gated = GatedBody()
    runner = make_runner(db, {"cdr_loader": gated})
    await runner.load()
    first = await runner.start("cdr_loader", T0, RunTrigger.SCHEDULE)
    assert first is not None
    async with asyncio.timeout(5):
        await gated.entered.wait()
    with pytest.raises(JobBusy):
        await runner.start("cdr_loader", T0 + timedelta(seconds=1), RunTrigger.MANUAL)
    assert await runner.run("cdr_loader", T0 + timedelta(seconds=120)) is None
    gated.gate.set()
    async with asyncio.timeout(5):
        record = await first
    assert record is not None
    assert record.outcome == "ok"
    assert len(await runner.runs("cdr_loader", 10)) == 1


async def test_a_run_on_another_instance_refuses_a_manual_run_here(db):
    gated = GatedBody()
    a = make_runner(db, {"metrics": gated}, instance="a")
    b = make_runner(db, {"metrics": gated}, instance="b")
    await a.load()
    await b.load()
    task = await a.start("metrics", T0)
    async with asyncio.timeout(5):
        await gated.entered.wait()
    with pytest.raises(JobBusy):
        await b.start("metrics", T0 + timedelta(seconds=5), RunTrigger.MANUAL)
    gated.gate.set()
    assert task is not None
    async with asyncio.timeout(5):
        await task


async def test_unknown_job_ids_are_refused(db):
    runner = make_runner(db)
    await runner.load()
    with pytest.raises(UnknownJob):
        await runner.run("no_such_job", T0)
    with pytest.raises(UnknownJob):
        await runner.update("no_such_job", enabled=False)


async def test_history_older_than_retention_is_removed(db):
    clock = FakeClock(T0)
    runner = make_runner(db, clock=clock, config=JobsConfig(history_days=2))
    await runner.load()
    await runner.run("metrics", T0)
    clock.advance(3 * 86400)
    await runner.run("metrics", clock.now())
    assert await runner.purge_history() == 1
    assert [r.scheduled_for for r in await runner.runs("metrics", 10)] == [clock.now()]


async def test_interrupted_runs_of_this_instance_are_closed(db):
    gated = GatedBody()
    runner = make_runner(db, {"metrics": gated}, instance="crashed")
    await runner.load()
    task = await runner.start("metrics", T0)
    async with asyncio.timeout(5):
        await gated.entered.wait()
    restarted = make_runner(db, instance="crashed")
    await restarted.load()
    assert await restarted.close_interrupted() == 1
    [run] = await restarted.runs("metrics", 10)
    assert run.outcome == "failed"
    assert "interrupted" in run.message
    gated.gate.set()
    assert task is not None
    async with asyncio.timeout(5):
        await task


async def test_changes_notify_listeners_and_other_instances_see_them(db):
    a = make_runner(db, instance="a")
    b = make_runner(db, instance="b")
    await a.load()
    await b.load()
    seen = []
    b.subscribe(lambda state: seen.append((state.job_id, state.enabled)))
    await a.update("routing_table", enabled=False)
    await b.refresh()
    assert seen == [("routing_table", False)]
    assert b.state("routing_table").enabled is False


async def test_a_new_leader_closes_the_dead_leaders_scheduled_runs(db):
    gated = GatedBody()
    old = make_runner(db, {"metrics": gated, "cdr_loader": gated}, instance="old")
    await old.load()
    scheduled = await old.start("metrics", T0, RunTrigger.SCHEDULE)
    async with asyncio.timeout(5):
        await gated.entered.wait()
    manual = await old.start("cdr_loader", T0, RunTrigger.MANUAL)
    new = make_runner(db, instance="new")
    await new.load()
    assert await new.close_interrupted() == 1
    [closed] = await new.runs("metrics", 10)
    assert closed.outcome == "failed"
    [alive] = await new.runs("cdr_loader", 10)
    assert alive.outcome is None  # a manual run elsewhere may still be running
    gated.gate.set()
    async with asyncio.timeout(5):
        assert scheduled is not None
        assert manual is not None
        await asyncio.gather(scheduled, manual)


async def test_last_scheduled_fires_ignore_manual_runs(db):
    runner = make_runner(db)
    await runner.load()
    await runner.run("metrics", T0)
    await runner.run("metrics", T0 + timedelta(days=7))
    await runner.run("metrics", T0 + timedelta(days=8), RunTrigger.MANUAL)
    assert await runner.last_scheduled_fires() == {"metrics": T0 + timedelta(days=7)}


async def test_stopping_cancels_a_slow_body_and_records_it(db):
    gated = GatedBody()
    runner = make_runner(db, {"cdr_loader": gated})
    await runner.load()
    task = await runner.start("cdr_loader", T0, RunTrigger.SCHEDULE)
    async with asyncio.timeout(5):
        await gated.entered.wait()
    await runner.drain(grace_seconds=0)
    assert task is not None
    assert task.done()
    [run] = await runner.runs("cdr_loader", 10)
    assert run.outcome == "failed"
    assert "cancelled" in run.message
    assert not runner.is_running("cdr_loader")


async def test_a_closed_runner_starts_nothing(db):
    body = CountingBody()
    runner = make_runner(db, {"cdr_loader": body})
    await runner.load()
    runner.close()
    assert await runner.run("cdr_loader", T0) is None
    assert body.calls == []
    assert await runner.runs("cdr_loader", 10) == []
