"""Helpers for the job tests: a runner on a real database with bodies the test owns."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bridge.clock import FakeClock
from bridge.config import Config
from bridge.logs import SecretRedactor
from bridge.storage.database import Database
from jobs.base import JobBody, JobContext, JobOutcome, JobReport
from jobs.config import JobsConfig
from jobs.runner import JobRunner
from tests.conftest import make_config

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def make_runner(
    db: Database,
    bodies: dict[str, JobBody] | None = None,
    *,
    clock: FakeClock | None = None,
    instance: str = "test-a",
    config: JobsConfig | None = None,
    redactor: SecretRedactor | None = None,
) -> JobRunner:
    return JobRunner(
        db,
        config or JobsConfig(),
        {} if bodies is None else bodies,
        clock=clock or FakeClock(T0),
        instance=instance,
        redactor=redactor,
    )


class CountingBody:
    """A job body that counts its calls per scheduled time."""

    def __init__(self) -> None:
        self.calls: list[datetime] = []

    async def __call__(self, ctx: JobContext) -> JobReport:
        self.calls.append(ctx.scheduled_for)
        await asyncio.sleep(0)
        return JobReport(JobOutcome.OK, {"rows": 3})


class GatedBody:
    """A job body that runs until the test opens the gate."""

    def __init__(self) -> None:
        self.entered = asyncio.Event()
        self.gate = asyncio.Event()

    async def __call__(self, ctx: JobContext) -> JobReport:
        self.entered.set()
        await self.gate.wait()
        return JobReport(JobOutcome.OK)


@pytest.fixture
def config(tmp_path: Path) -> Config:
    """These tests run with the live scheduler on (the shared config turns it off);
    they are written to tolerate real fires inside the 08:00-21:00 window."""
    return make_config(tmp_path, jobs={"enabled": True})
