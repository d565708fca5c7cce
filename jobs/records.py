"""What the runner hands out: job states, run records, started runs."""

from __future__ import annotations

import asyncio
import enum
import json
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from jobs.catalog import JobKind, JobSpec
from jobs.models import JobRun
from jobs.schedule_model import Schedule, next_fire_time, window_edge_after


class RunTrigger(enum.StrEnum):
    SCHEDULE = "schedule"
    MANUAL = "manual"


@dataclass(frozen=True, slots=True)
class JobState:
    spec: JobSpec
    enabled: bool
    schedule: Schedule

    @property
    def job_id(self) -> str:
        return self.spec.job_id

    def next_fire(self, zone: ZoneInfo, now: datetime) -> datetime | None:
        if not self.enabled:
            return None
        if self.spec.kind is JobKind.WINDOW:
            return window_edge_after(self.schedule, zone, now)
        return next_fire_time(self.schedule, zone, now)


@dataclass(frozen=True, slots=True)
class RunRecord:
    id: int
    job_id: str
    scheduled_for: datetime
    trigger: str
    instance: str
    started_at: datetime
    finished_at: datetime | None
    outcome: str | None
    counters: dict[str, int] = field(default_factory=dict)
    message: str = ""

    @classmethod
    def of(cls, row: JobRun) -> RunRecord:
        return cls(
            id=row.id,
            job_id=row.job_id,
            scheduled_for=row.scheduled_for,
            trigger=row.trigger,
            instance=row.instance,
            started_at=row.started_at,
            finished_at=row.finished_at,
            outcome=row.outcome,
            counters=json.loads(row.counters or "{}"),
            message=row.message,
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "job_id": self.job_id,
            "scheduled_for": self.scheduled_for.isoformat(),
            "trigger": self.trigger,
            "instance": self.instance,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "outcome": self.outcome,
            "counters": self.counters,
            "message": self.message,
        }


StateListener = Callable[[JobState], None]


@dataclass(frozen=True, slots=True)
class StartedRun:
    """A claimed run whose body is running; await it for the finished record."""

    run_id: int
    task: asyncio.Task[RunRecord | None]

    def done(self) -> bool:
        return self.task.done()

    def __await__(self) -> Generator[Any, None, RunRecord | None]:
        return self.task.__await__()
