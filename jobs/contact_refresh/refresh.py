"""The bodies of `contact_refresh` (3 months) and `contact_refresh_operative` (5 days).

One run: bring the contact index up to date from 1C (incrementally), then give
every unowned journal record in the window the owner its number now has. If 1C
fails, the run is recorded as failed, but the records are still matched against
the last index, so users get what can be had; the scheduler retries next run.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bridge.contacts import ContactMatch
from bridge.onec.contact_index import ContactIndex
from bridge.onec.errors import OneCAuthError, OneCError
from bridge.onec.index_build import BuildReport
from jobs.base import JobContext, JobOutcome, JobReport
from jobs.contact_refresh.calls import Ownership, UnownedCalls

log = logging.getLogger(__name__)

FULL_JOB = "contact_refresh"
OPERATIVE_JOB = "contact_refresh_operative"
WINDOWS = {FULL_JOB: timedelta(days=90), OPERATIVE_JOB: timedelta(days=5)}
OWNER_BATCH = 1000

# Brings the index up to date from 1C and says what changed; raises OneCError.
IndexRefresh = Callable[[datetime], Awaitable[BuildReport]]


@dataclass(slots=True)
class FillReport:
    examined: int = 0
    filled: int = 0
    unknown: int = 0

    def counters(self) -> dict[str, int]:
        return {
            "examined": self.examined,
            "filled": self.filled,
            "unknown": self.unknown,
        }


@dataclass(slots=True)
class ContactRefresh:
    """What both jobs share; `calls` is set by the journal feature when it is on."""

    index: ContactIndex
    refresh_index: IndexRefresh | None = None
    calls: UnownedCalls | None = None
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    def body(self, job_id: str) -> Callable[[JobContext], Awaitable[JobReport]]:
        window = WINDOWS[job_id]

        async def run(ctx: JobContext) -> JobReport:
            return await self.run(ctx.scheduled_for - window)

        return run

    async def run(self, since: datetime) -> JobReport:
        # Without 1C, owners can still come from an index kept from earlier; with
        # neither there is nothing to refresh from.
        if self.refresh_index is None and (self.calls is None or not self.index.owners):
            return JobReport.not_configured("onec.odata_url")
        counters: dict[str, int] = {}
        failure = ""
        if self.refresh_index is not None:
            try:
                built = await self.refresh_index(self.now())
                counters.update(built.counters())
            except OneCError as exc:
                failure = _failure(exc)
                log.warning("contact index not refreshed: %s", failure)
        if self.calls is not None:
            counters.update(
                (await fill_owners(self.index, self.calls, since)).counters()
            )
        if failure:
            return JobReport(JobOutcome.FAILED, counters, failure)
        return JobReport(JobOutcome.OK, counters, _summary(self.calls is not None))


async def fill_owners(
    index: ContactIndex, calls: UnownedCalls, since: datetime
) -> FillReport:
    report = FillReport()
    batch: list[Ownership] = []
    # Journal numbers repeat (regular clients call often); each distinct text is
    # normalized once per run. Dropped with the run, so memory stays bounded.
    seen: dict[str, ContactMatch | None] = {}
    async for call in calls.unowned(since):
        report.examined += 1
        if call.number in seen:
            match = seen[call.number]
        else:
            match = seen[call.number] = index.match(call.number)
        if match is None:
            report.unknown += 1
            continue
        batch.append(Ownership(call.record_id, match))
        if len(batch) >= OWNER_BATCH:
            await calls.set_owners(batch)
            report.filled += len(batch)
            batch = []
            await asyncio.sleep(0)  # a long pass must not starve the event loop
    if batch:
        await calls.set_owners(batch)
        report.filled += len(batch)
    return report


def _failure(exc: OneCError) -> str:
    if isinstance(exc, OneCAuthError):
        return f"1C refused the login; check onec.username/password: {exc}"
    return f"1C unavailable, index kept as of the last build: {exc}"


def _summary(journal: bool) -> str:
    return "" if journal else "call journal not wired: only the index was refreshed"
