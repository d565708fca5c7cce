"""Running jobs and keeping their settings and history (no scheduler in here).

`JobRunner.run` is what a fire of the scheduler, or an admin's "run now", calls. It
claims the run by inserting the `(job_id, scheduled_for)` row first: the unique key
makes a second fire of the same time (another instance, a coalesced misfire) a
harmless no-op. A job never overlaps itself: a scheduled fire while it runs is
skipped, a manual run is refused with `JobBusy`. A failing body is recorded as
`failed` with its error text (secrets scrubbed) and affects no other job.

    JobError
    ├── UnknownJob   the id is not one of the seven (PRODUCT §9)
    └── JobBusy      the job is running (here, or on another instance)
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import datetime, timedelta
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from sqlalchemy import delete, or_, select, update
from sqlalchemy import func as sql_func
from sqlalchemy.exc import IntegrityError

from bridge.clock import Clock
from bridge.logs import SecretRedactor
from bridge.storage.database import Database
from jobs.base import JobBody, JobContext, JobOutcome, JobReport
from jobs.catalog import CATALOG, SPECS, JobSpec
from jobs.config import JobsConfig
from jobs.models import JobRun, JobSetting
from jobs.records import JobState, RunRecord, RunTrigger, StartedRun, StateListener
from jobs.schedule_model import Schedule
from jobs.schedule_words import describe

log = logging.getLogger(__name__)
_MESSAGE_LIMIT = 4000
# An unfinished run older than this is a crashed process's, not a running job.
_STALE_RUN = timedelta(hours=6)
# How long a stopping service waits for running bodies before cancelling them.
_DRAIN_SECONDS = 10.0
_NOT_RUN_STOPPING = JobReport(JobOutcome.FAILED, message="not run: the service stopped")


class JobError(Exception):
    pass


class UnknownJob(JobError):
    def __init__(self, job_id: str) -> None:
        super().__init__(f"no job {job_id!r}; known jobs: {', '.join(SPECS)}")
        self.job_id = job_id


class JobBusy(JobError):
    def __init__(self, job_id: str) -> None:
        super().__init__(f"job {job_id!r} is running now; try again when it finishes")
        self.job_id = job_id


class _RunMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.runs = Counter(
            "telebridge_job_runs",
            "Job runs by outcome",
            ["job", "outcome"],
            registry=registry,
        )
        self.seconds = Histogram(
            "telebridge_job_run_seconds",
            "Job run duration",
            ["job"],
            registry=registry,
        )


class JobRunner:
    def __init__(
        self,
        db: Database,
        config: JobsConfig,
        bodies: dict[str, JobBody],
        *,
        clock: Clock,
        instance: str,
        redactor: SecretRedactor | None = None,
        registry: CollectorRegistry | None = None,
    ) -> None:
        self._db = db
        self._config = config
        self._bodies = bodies
        self._clock = clock
        self.instance = instance[:128]
        self._redactor = redactor or SecretRedactor()
        self._metrics = _RunMetrics(registry or CollectorRegistry())
        self._states: dict[str, JobState] = {}
        self._running: set[str] = set()
        self._tasks: set[asyncio.Task[RunRecord | None]] = set()
        self._listeners: list[StateListener] = []
        self._closed = False
        self.zone = config.zone

    # -- settings ---------------------------------------------------------------

    def subscribe(self, listener: StateListener) -> None:
        self._listeners.append(listener)

    def states(self) -> list[JobState]:
        return [self._states[spec.job_id] for spec in CATALOG if spec.job_id in self]

    def __contains__(self, job_id: object) -> bool:
        return job_id in self._states

    def state(self, job_id: str) -> JobState:
        if job_id not in SPECS:
            raise UnknownJob(job_id)
        return self._states[job_id]

    def is_running(self, job_id: str) -> bool:
        return job_id in self._running

    async def load(self) -> None:
        """Seed missing settings from the config, then read them all."""
        try:
            async with self._db.session() as session, session.begin():
                have = set(await session.scalars(select(JobSetting.job_id)))
                for spec in CATALOG:
                    if spec.job_id not in have:
                        session.add(self._seed_row(spec))
        except IntegrityError:  # another instance seeded at the same moment
            log.debug("job settings were seeded concurrently")
        await self.refresh()

    async def refresh(self) -> None:
        """Re-read settings (another instance may have changed them)."""
        async with self._db.session() as session:
            rows = list(await session.scalars(select(JobSetting)))
        for row in rows:
            spec = SPECS.get(row.job_id)
            if spec is None:
                continue
            state = JobState(
                spec, row.enabled, Schedule.model_validate_json(row.schedule)
            )
            if self._states.get(row.job_id) != state:
                self._states[row.job_id] = state
                self._notify(state)

    async def last_scheduled_fires(self) -> dict[str, datetime]:
        """Each job's newest scheduled fire, so "every Nth day" survives a restart."""
        async with self._db.session() as session:
            rows = await session.execute(
                select(JobRun.job_id, sql_func.max(JobRun.scheduled_for))
                .where(JobRun.trigger == RunTrigger.SCHEDULE.value)
                .group_by(JobRun.job_id)
            )
            return {job_id: last for job_id, last in rows if last is not None}

    async def update(
        self,
        job_id: str,
        *,
        enabled: bool | None = None,
        schedule: Schedule | None = None,
    ) -> JobState:
        current = self.state(job_id)
        state = JobState(
            current.spec,
            current.enabled if enabled is None else enabled,
            current.schedule if schedule is None else schedule,
        )
        async with self._db.session() as session, session.begin():
            await session.execute(
                update(JobSetting)
                .where(JobSetting.job_id == job_id)
                .values(
                    enabled=state.enabled,
                    schedule=state.schedule.model_dump_json(),
                    updated_at=self._clock.now(),
                )
            )
        log.info(
            "job %s: enabled=%s schedule=%s",
            job_id,
            state.enabled,
            describe(state.schedule),
        )
        self._states[job_id] = state
        self._notify(state)
        return state

    def _notify(self, state: JobState) -> None:
        for listener in self._listeners:
            listener(state)

    def _seed_row(self, spec: JobSpec) -> JobSetting:
        seed = self._config.seed.get(spec.job_id)
        schedule = (seed.schedule if seed else None) or spec.default
        return JobSetting(
            job_id=spec.job_id,
            enabled=seed.enabled if seed else True,
            schedule=schedule.model_dump_json(),
            updated_at=self._clock.now(),
        )

    # -- windows ----------------------------------------------------------------

    def window_reason(self, job_id: str, now: datetime) -> str | None:
        """None if the job's window is open at `now`; else why it is closed."""
        state = self._states.get(job_id)
        if state is None:
            return f"job {job_id} is not loaded yet"
        if not state.enabled:
            return f"job {job_id} is disabled"
        if not state.schedule.in_window(now.astimezone(self.zone)):
            return f"outside the {job_id} window: {describe(state.schedule)}"
        return None

    # -- runs -------------------------------------------------------------------

    async def run(
        self,
        job_id: str,
        scheduled_for: datetime,
        trigger: RunTrigger = RunTrigger.SCHEDULE,
    ) -> RunRecord | None:
        """Run the job once for `scheduled_for`; None if skipped (already claimed)."""
        started = await self.start(job_id, scheduled_for, trigger)
        return None if started is None else await started.task

    async def start(
        self,
        job_id: str,
        scheduled_for: datetime,
        trigger: RunTrigger = RunTrigger.MANUAL,
    ) -> StartedRun | None:
        """Claim the run and start its body; None if already claimed or skipped."""
        self.state(job_id)
        if self._stopping():
            return None
        if job_id in self._running:
            if trigger is RunTrigger.MANUAL:
                raise JobBusy(job_id)
            log.info("job %s still running; fire at %s skipped", job_id, scheduled_for)
            return None
        self._running.add(job_id)
        try:
            run_id = await self._claim(job_id, scheduled_for, trigger)
        except BaseException:
            self._running.discard(job_id)
            raise
        if run_id is None:
            self._running.discard(job_id)
            return None
        if self._stopping():  # it began while the run was being claimed
            await self._finish(run_id, job_id, _NOT_RUN_STOPPING)
            self._running.discard(job_id)
            return None
        task = asyncio.create_task(self._execute(run_id, job_id, scheduled_for))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return StartedRun(run_id, task)

    def close(self) -> None:
        """Start no more runs (the service is stopping)."""
        self._closed = True

    def _stopping(self) -> bool:
        return self._closed

    async def drain(self, grace_seconds: float = _DRAIN_SECONDS) -> None:
        """Let running bodies finish (the app is stopping); cancel the slow ones.

        A cancelled body's run is still recorded, as failed, so the history never
        keeps a run that looks as if it were running forever.
        """
        if not self._tasks:
            return
        _done, pending = await asyncio.wait(set(self._tasks), timeout=grace_seconds)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)

    async def get_run(self, run_id: int) -> RunRecord | None:
        async with self._db.session() as session:
            row = await session.get(JobRun, run_id)
            return None if row is None else RunRecord.of(row)

    async def runs(self, job_id: str, limit: int) -> list[RunRecord]:
        self.state(job_id)
        async with self._db.session() as session:
            rows = await session.scalars(
                select(JobRun)
                .where(JobRun.job_id == job_id)
                .order_by(JobRun.started_at.desc(), JobRun.id.desc())
                .limit(limit)
            )
            return [RunRecord.of(r) for r in rows]

    async def purge_history(self) -> int:
        cutoff = self._clock.now() - timedelta(days=self._config.history_days)
        async with self._db.session() as session, session.begin():
            result = await session.execute(
                delete(JobRun).where(JobRun.started_at < cutoff)
            )
        removed = int(getattr(result, "rowcount", 0) or 0)
        if removed:
            log.info("removed %d job runs older than %s", removed, cutoff)
        return removed

    async def close_interrupted(self) -> int:
        """Mark runs a dead process left unfinished as failed; call on taking the lead.

        Scheduled runs only ever run on the leader, so once this instance holds the
        lock every unfinished scheduled run belongs to a leader that is gone; manual
        runs may be alive on other instances, so only this instance's are closed.
        """
        mine_or_scheduled = or_(
            JobRun.instance == self.instance,
            JobRun.trigger == RunTrigger.SCHEDULE.value,
        )
        async with self._db.session() as session, session.begin():
            result = await session.execute(
                update(JobRun)
                .where(mine_or_scheduled, JobRun.outcome.is_(None))
                .values(
                    outcome=JobOutcome.FAILED.value,
                    finished_at=self._clock.now(),
                    message="interrupted: the process stopped during the run",
                )
            )
        return int(getattr(result, "rowcount", 0) or 0)

    async def _claim(
        self, job_id: str, scheduled_for: datetime, trigger: RunTrigger
    ) -> int | None:
        now = self._clock.now()
        row = JobRun(
            job_id=job_id,
            scheduled_for=scheduled_for,
            trigger=trigger.value,
            instance=self.instance,
            started_at=now,
            counters="{}",
            message="",
        )
        try:
            async with self._db.session() as session, session.begin():
                if await self._running_elsewhere(session, job_id, now):
                    if trigger is RunTrigger.MANUAL:
                        raise JobBusy(job_id)
                    return None
                session.add(row)
        except IntegrityError:
            log.info(
                "job %s at %s already ran or runs elsewhere", job_id, scheduled_for
            )
            return None
        return row.id

    async def _running_elsewhere(
        self, session: Any, job_id: str, now: datetime
    ) -> bool:
        found = await session.scalar(
            select(JobRun.id)
            .where(
                JobRun.job_id == job_id,
                JobRun.outcome.is_(None),
                JobRun.started_at > now - _STALE_RUN,
            )
            .limit(1)
        )
        return found is not None

    async def _execute(
        self, run_id: int, job_id: str, scheduled_for: datetime
    ) -> RunRecord | None:
        began = self._clock.monotonic()
        try:
            report = await self._call_body(job_id, scheduled_for)
            return await self._finish(run_id, job_id, report)
        finally:
            self._running.discard(job_id)
            self._metrics.seconds.labels(job_id).observe(
                max(0.0, self._clock.monotonic() - began)
            )

    async def _call_body(self, job_id: str, scheduled_for: datetime) -> JobReport:
        body = self._bodies.get(job_id)
        if body is None:
            return JobReport.not_configured(f"no body is registered for {job_id}")
        try:
            return await body(JobContext(job_id, scheduled_for))
        except asyncio.CancelledError:
            return JobReport(
                JobOutcome.FAILED, message="cancelled: the service stopped"
            )
        except Exception as exc:
            log.exception("job %s failed", job_id)
            return JobReport(JobOutcome.FAILED, message=f"{type(exc).__name__}: {exc}")

    async def _finish(
        self, run_id: int, job_id: str, report: JobReport
    ) -> RunRecord | None:
        message = self._redactor.scrub(report.message)[:_MESSAGE_LIMIT]
        async with self._db.session() as session, session.begin():
            await session.execute(
                update(JobRun)
                .where(JobRun.id == run_id)
                .values(
                    finished_at=self._clock.now(),
                    outcome=report.outcome.value,
                    counters=json.dumps(report.counters, sort_keys=True),
                    message=message,
                )
            )
            row = await session.get(JobRun, run_id)
        self._metrics.runs.labels(job_id, report.outcome.value).inc()
        return None if row is None else RunRecord.of(row)
