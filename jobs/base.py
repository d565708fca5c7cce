"""What a job body is: a plain async callable, testable without the scheduler.

The scheduler (`jobs.schedule`, the only module that imports APScheduler) calls
bodies registered in `Core.job_bodies` under their job ids (PRODUCT §9) and records
each `JobReport` as a run. A job whose feature is not configured returns
`JobOutcome.NOT_CONFIGURED`, honestly, instead of pretending to work.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime


class JobOutcome(enum.StrEnum):
    OK = "ok"
    FAILED = "failed"
    NOT_CONFIGURED = "not_configured"


@dataclass(frozen=True, slots=True)
class JobContext:
    job_id: str
    # The time the schedule meant this run for (UTC); `now` when run by hand.
    scheduled_for: datetime


@dataclass(frozen=True, slots=True)
class JobReport:
    outcome: JobOutcome
    counters: dict[str, int] = field(default_factory=dict)
    message: str = ""

    @classmethod
    def not_configured(cls, what: str) -> JobReport:
        return cls(JobOutcome.NOT_CONFIGURED, message=f"not configured: {what}")


JobBody = Callable[[JobContext], Awaitable[JobReport]]
