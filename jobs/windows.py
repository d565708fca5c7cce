"""Exchange jobs open and close the long-poll channels (their windows).

The channels are built elsewhere; they take a policy per channel through
`WindowPolicyTarget.set_policy(channel, fn)`, where `fn(now)` returns None while the
channel is open and the reason it is closed otherwise. The policy is the job's own
state: open iff the exchange job is enabled and `now` is inside its schedule window,
so a PATCH (enable/disable/reschedule) moves the window at once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from jobs.base import JobBody, JobContext, JobOutcome, JobReport
from jobs.catalog import CHANNEL_OF_JOB
from jobs.runner import JobRunner

WindowPolicy = Callable[[datetime], "str | None"]


class WindowPolicyTarget(Protocol):
    def set_policy(self, channel: str, policy: WindowPolicy) -> None:
        """Open `channel` ("events"/"contacts") while `policy(now)` is None."""
        ...


def bind_windows(runner: JobRunner, target: WindowPolicyTarget) -> None:
    for job_id, channel in CHANNEL_OF_JOB.items():
        target.set_policy(channel, _policy(runner, job_id))


def window_bodies(runner: JobRunner) -> dict[str, JobBody]:
    """Bodies that record a window edge: what the channel's state became."""
    return {job_id: _edge_body(runner, job_id) for job_id in CHANNEL_OF_JOB}


def _policy(runner: JobRunner, job_id: str) -> WindowPolicy:
    def policy(now: datetime) -> str | None:
        return runner.window_reason(job_id, now)

    return policy


def _edge_body(runner: JobRunner, job_id: str) -> JobBody:
    channel = CHANNEL_OF_JOB[job_id]

    async def body(ctx: JobContext) -> JobReport:
        reason = runner.window_reason(job_id, ctx.scheduled_for)
        if reason is None:
            return JobReport(JobOutcome.OK, {"open": 1}, f"{channel} channel open")
        return JobReport(
            JobOutcome.OK, {"open": 0}, f"{channel} channel closed: {reason}"
        )

    return body
