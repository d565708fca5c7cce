"""The scheduler: APScheduler 3.11 `AsyncIOScheduler` (the only module importing it).

Each enabled job is one APScheduler job whose trigger asks the pure schedule model
(`jobs.schedule_model`) for the next fire time. A custom trigger instead of
`CronTrigger` because 1C's "every N seconds from begin_time through end_time" is not
a cron expression when N does not divide an hour, including the end time itself
needs an `OrTrigger`, and `AndTrigger([IntervalTrigger, CronTrigger])` hangs in 3.11
(research ecosystem.md §1.4); no week-day numbers are ever handed to APScheduler, so
its Monday-based `day_of_week` trap cannot bite.

Exchange jobs (`JobKind.WINDOW`) fire only at their window's edges: the long-poll
channels ask `JobRunner.window_reason` directly whenever they need to know, so one
run per second would record 46,800 identical rows a day and say nothing more than
"opened at 08:00:00, closed after 21:00:00".

Only the instance holding the leader lock (`jobs.leader`) runs the scheduler; the
others re-read settings and retry the lock every `jobs.refresh_seconds`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.executors.base import BaseExecutor
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger

from bridge.health import ComponentStatus, State
from jobs.catalog import JobKind
from jobs.leader import LeaderLock
from jobs.records import JobState
from jobs.runner import JobRunner
from jobs.schedule_model import (
    Schedule,
    last_window_edge,
    next_fire_time,
    window_edge_after,
)

log = logging.getLogger(__name__)
_ONE_TICK = timedelta(microseconds=1)
# How late a fire may still run: a stalled loop catches up, a stale fire is dropped.
_GRACE_REPEATING_MAX = 300
_GRACE_DAILY = 3600
# Window edges only record what the channel became, so a late one is still worth it.
_GRACE_WINDOW = 8 * 86400
# Retention is in days; trimming the history hourly is plenty.
_PURGE_EVERY_SECONDS = 3600


class ScheduleTrigger(BaseTrigger):  # type: ignore[misc]
    """Fires when the 1C-shaped schedule says (or at its window's edges)."""

    def __init__(
        self,
        schedule: Schedule,
        zone: ZoneInfo,
        *,
        edges: bool,
        last_fire: datetime | None = None,
    ) -> None:
        self.schedule = schedule
        self.zone = zone
        self.edges = edges
        # The newest fire recorded before this trigger existed (a restart, another
        # leader): the every-Nth-day count goes on from it.
        self.last_fire = last_fire

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        start = previous_fire_time + _ONE_TICK if previous_fire_time else now
        previous = previous_fire_time or self.last_fire
        if self.edges:
            fire = window_edge_after(self.schedule, self.zone, start)
        else:
            fire = next_fire_time(self.schedule, self.zone, start, previous)
        return None if fire is None else fire.astimezone(self.zone)

    def __str__(self) -> str:
        return f"1c-schedule[{self.schedule.model_dump_json()}]"


class _RunTimeExecutor(BaseExecutor):  # type: ignore[misc]
    """Hands the fire time to the runner (AsyncIOExecutor would drop it).

    The run row is keyed on that time, which is what makes two instances' fires of
    the same moment collide in the database instead of running twice.
    """

    def __init__(self, fires: set[asyncio.Task[None]]) -> None:
        super().__init__()
        self._fires = fires

    def start(self, scheduler: Any, alias: str) -> None:
        super().start(scheduler, alias)
        self._eventloop = scheduler._eventloop

    def _do_submit_job(self, job: Any, run_times: list[datetime]) -> None:
        run_time = run_times[-1]  # coalesced: only the newest missed fire counts
        late = _utc_now() - run_time
        if job.misfire_grace_time is not None and late > timedelta(
            seconds=job.misfire_grace_time
        ):
            log.warning("job %s fire at %s missed by %s", job.id, run_time, late)
            self._run_job_success(job.id, [])
            return
        task = self._eventloop.create_task(job.func(*job.args, run_time))
        self._fires.add(task)
        task.add_done_callback(self._fires.discard)
        task.add_done_callback(lambda _t: self._run_job_success(job.id, []))


class JobScheduler:
    """Leader election, the APScheduler instance, and applying setting changes."""

    def __init__(
        self,
        runner: JobRunner,
        lock: LeaderLock,
        *,
        refresh_seconds: float,
        enabled: bool = True,
    ) -> None:
        self._runner = runner
        self._lock = lock
        self._refresh = refresh_seconds
        self._enabled = enabled
        self._aps: AsyncIOScheduler | None = None
        self._problem = ""
        self._ticked = False
        self._purged_at: float | None = None
        self._last_fires: dict[str, datetime] = {}
        # Fires in flight, so stopping can wait for them instead of abandoning a
        # half-made claim on a closing database.
        self._fires: set[asyncio.Task[None]] = set()
        runner.subscribe(self._apply)

    @property
    def is_leader(self) -> bool:
        return self._aps is not None

    def next_run_time(self, job_id: str) -> datetime | None:
        job = self._aps.get_job(job_id) if self._aps else None
        return None if job is None else job.next_run_time.astimezone(UTC)

    async def tick(self) -> None:
        """One round: keep or take the lock, re-read settings, trim the history."""
        try:
            await self._runner.refresh()
            if self._enabled:
                await self._keep_leadership()
            self._problem = ""
        except Exception as exc:  # noqa: BLE001 - the database may be away; retry later
            log.warning("scheduler round failed: %s", exc)
            self._problem = f"{type(exc).__name__}"
        self._ticked = True

    async def run_forever(self) -> None:
        """A round every `refresh_seconds` until cancelled (after a first `tick`)."""
        while True:
            await asyncio.sleep(self._refresh)
            await self.tick()

    async def stop(self) -> None:
        self._stop_scheduler()
        self._runner.close()
        await self._runner.drain()
        if self._fires:
            await asyncio.gather(*self._fires, return_exceptions=True)
        await self._lock.release()

    async def status(self) -> ComponentStatus:
        if not self._enabled:
            return ComponentStatus(State.OK, "jobs.enabled is false on this instance")
        if not self._ticked:
            return ComponentStatus(State.STARTING)
        data = {"role": "leader" if self.is_leader else "standby"}
        if self._problem:
            return ComponentStatus(State.DEGRADED, self._problem, data)
        return ComponentStatus(State.OK, data=data)

    async def _keep_leadership(self) -> None:
        if self.is_leader:
            if not await self._lock.still_held():
                self._stop_scheduler()
            else:
                await self._purge_now_and_then()
            return
        if await self._lock.acquire():
            closed = await self._runner.close_interrupted()
            if closed:
                log.warning("marked %d interrupted runs as failed", closed)
            self._last_fires = await self._runner.last_scheduled_fires()
            self._start_scheduler()
            await self._purge_now_and_then()

    async def _purge_now_and_then(self) -> None:
        now = time.monotonic()
        if self._purged_at is None or now - self._purged_at >= _PURGE_EVERY_SECONDS:
            await self._runner.purge_history()
            self._purged_at = now

    def _start_scheduler(self) -> None:
        aps = AsyncIOScheduler(
            timezone=self._runner.zone,
            executors={"default": _RunTimeExecutor(self._fires)},
            job_defaults={"coalesce": True, "max_instances": 1},
        )
        aps.start()
        self._aps = aps
        for state in self._runner.states():
            self._apply(state)
        log.info("this instance now runs the job schedules (%s)", self._runner.instance)

    def _stop_scheduler(self) -> None:
        aps, self._aps = self._aps, None
        if aps is not None:
            aps.shutdown(wait=False)
            log.info("this instance stopped running the job schedules")

    def _apply(self, state: JobState) -> None:
        if self._aps is None:
            return
        if not state.enabled:
            if self._aps.get_job(state.job_id) is not None:
                self._aps.remove_job(state.job_id)
            return
        window = state.spec.kind is JobKind.WINDOW
        extra: dict[str, Any] = {}
        if window:
            # Record the edge this instance may have missed (started mid-window, took
            # over from a dead leader); if it was recorded already, the run's unique
            # row makes this a no-op.
            missed = last_window_edge(state.schedule, self._runner.zone, _utc_now())
            if missed is not None:
                extra["next_run_time"] = missed
        self._aps.add_job(
            self._fire,
            ScheduleTrigger(
                state.schedule,
                self._runner.zone,
                edges=window,
                last_fire=self._last_fires.get(state.job_id),
            ),
            args=[state.job_id],
            id=state.job_id,
            name=state.spec.title,
            replace_existing=True,
            misfire_grace_time=_grace(state.schedule, window=window),
            **extra,
        )

    async def _fire(self, job_id: str, scheduled_for: datetime | None = None) -> None:
        # The executor always passes the fire time; the default only satisfies
        # APScheduler's check of the arguments given at `add_job`.
        when = scheduled_for or _utc_now()
        self._last_fires[job_id] = when
        try:
            await self._runner.run(job_id, when.astimezone(UTC))
        except Exception:
            log.exception("job %s could not be run", job_id)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _grace(schedule: Schedule, *, window: bool) -> int:
    if window:
        return _GRACE_WINDOW
    if schedule.repeat_period_seconds is None:
        return _GRACE_DAILY
    return min(max(schedule.repeat_period_seconds, 1), _GRACE_REPEATING_MAX)
