"""The contact refresh job bodies: index from the fake 1C, owners into a journal.

The journal here is an in-test `UnownedCalls` (the real one is `bridge.journal`,
wired by the lead); it keeps records in memory and filters by time like the real
one must.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bridge.onec.config import OneCConfig
from bridge.onec.contact_index import ContactIndex
from bridge.onec.demo.data import COUNTERPARTIES
from bridge.onec.index_build import BuildReport, IndexBuilder
from bridge.storage.database import Database
from jobs.base import JobContext, JobOutcome
from jobs.contact_refresh.calls import Ownership, UnownedCall
from jobs.contact_refresh.refresh import FULL_JOB, OPERATIVE_JOB, ContactRefresh
from tests.fakes.onec import RunningOneC

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


@dataclass
class MemoryJournal:
    """Records (id, started, number, owner ref)."""

    records: list[tuple[int, datetime, str, str]] = field(default_factory=list)
    batches: int = 0

    async def unowned(self, since: datetime) -> AsyncIterator[UnownedCall]:
        for record_id, started, number, owner in list(self.records):
            if started >= since and not owner:
                yield UnownedCall(record_id, number)

    async def set_owners(self, owners: Sequence[Ownership]) -> None:
        self.batches += 1
        found = {o.record_id: o.match.owners[0].ref for o in owners}
        self.records = [
            (i, t, n, found.get(i, owner)) for i, t, n, owner in self.records
        ]

    def owner(self, record_id: int) -> str:
        return next(r[3] for r in self.records if r[0] == record_id)


def refresher(db: Database, onec: RunningOneC) -> ContactRefresh:
    index = ContactIndex(db)
    config = OneCConfig(odata_url=onec.odata_url, username="odata")

    async def refresh_index(now: datetime) -> BuildReport:
        async with onec.client() as client:
            report = await IndexBuilder(db, client, config).build(now)
        await index.load(now)
        return report

    return ContactRefresh(index, refresh_index, now=lambda: NOW)


def known_numbers(onec: RunningOneC, count: int) -> list[tuple[str, str]]:
    found = []
    for company in onec.infobase.sets[COUNTERPARTIES]:
        number = company["КонтактнаяИнформация"][0]["НомерТелефона"]
        if number and not company["DeletionMark"]:
            found.append((company["Ref_Key"], number))
    return found[:count]


async def test_operative_run_fills_owners_of_the_last_five_days(db, onec):
    refresh = refresher(db, onec)
    (ref1, n1), (ref2, n2) = known_numbers(onec, 2)
    journal = MemoryJournal(
        [
            (1, NOW - timedelta(days=1), n1, ""),
            (2, NOW - timedelta(days=2), "8" + n2[2:], ""),  # another format
            (3, NOW - timedelta(days=3), "+7 999 000-00-00", ""),
            (4, NOW - timedelta(days=10), n1, ""),  # outside 5 days
            (5, NOW - timedelta(hours=1), n2, "already-owned"),
        ]
    )
    refresh.calls = journal

    report = await refresh.body(OPERATIVE_JOB)(JobContext(OPERATIVE_JOB, NOW))

    assert report.outcome is JobOutcome.OK
    assert report.counters["examined"] == 3
    assert report.counters["filled"] == 2
    assert report.counters["unknown"] == 1
    assert report.counters["index_examined"] > 0
    assert (journal.owner(1), journal.owner(2)) == (ref1, ref2)
    assert journal.owner(4) == ""
    assert journal.owner(5) == "already-owned"


async def test_full_run_reaches_three_months_back(db, onec):
    refresh = refresher(db, onec)
    ((ref, number),) = known_numbers(onec, 1)
    journal = MemoryJournal([(1, NOW - timedelta(days=80), number, "")])
    refresh.calls = journal

    report = await refresh.body(FULL_JOB)(JobContext(FULL_JOB, NOW))

    assert report.counters["filled"] == 1
    assert journal.owner(1) == ref


async def test_1c_down_fails_the_run_but_fills_from_the_last_index(db, onec):
    refresh = refresher(db, onec)
    await refresh.run(NOW)  # a first, good build
    ((ref, number),) = known_numbers(onec, 1)
    refresh.calls = journal = MemoryJournal([(1, NOW, number, "")])
    onec.fake.faults.down = True

    report = await refresh.run(NOW - timedelta(days=5))

    assert report.outcome is JobOutcome.FAILED
    assert "unavailable" in report.message
    assert report.counters["filled"] == 1
    assert journal.owner(1) == ref

    onec.fake.faults.down = False  # the next run recovers by itself
    assert (await refresh.run(NOW - timedelta(days=5))).outcome is JobOutcome.OK


async def test_wrong_password_fails_with_a_clear_message(db, onec):
    refresh = refresher(db, onec)
    onec.fake.password = "changed"
    before = onec.fake.requests

    report = await refresh.run(NOW)

    assert report.outcome is JobOutcome.FAILED
    assert "onec.username/password" in report.message
    assert onec.fake.requests - before == 1


async def test_many_records_are_written_in_batches(db, onec):
    refresh = refresher(db, onec)
    ((_, number),) = known_numbers(onec, 1)
    refresh.calls = journal = MemoryJournal([(i, NOW, number, "") for i in range(2500)])

    report = await refresh.run(NOW - timedelta(days=1))

    assert report.counters["filled"] == 2500
    assert journal.batches == 3


async def test_nothing_configured_says_so(sqlite_db):
    refresh = ContactRefresh(ContactIndex(sqlite_db))
    report = await refresh.run(NOW)
    assert report.outcome is JobOutcome.NOT_CONFIGURED


async def test_without_a_journal_only_the_index_is_refreshed(db, onec):
    refresh = refresher(db, onec)
    report = await refresh.run(NOW)
    assert report.outcome is JobOutcome.OK
    assert "journal not wired" in report.message
    assert "examined" not in report.counters
