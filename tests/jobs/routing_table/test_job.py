"""The routing_table job and the table it feeds, on real databases: incremental folds,
read-time expiry and staff changes, pruning, crash safety, and agreement with the
pure specification (`ranking.rank`)."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import UTC, datetime, timedelta

import pytest

from bridge.clock import FakeClock
from bridge.storage.database import Database
from jobs.base import JobContext
from jobs.routing_table.job import PRUNE_MARGIN, Batch, RoutingTableJob
from jobs.routing_table.ranking import (
    ClientRanking,
    DocumentType,
    Interaction,
    rank,
)
from jobs.routing_table.store import RoutingStore
from jobs.routing_table.table import RoutingTable

START = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
TYPES = {
    "calls": DocumentType("calls", 1.0, timedelta(days=90)),
    "orders": DocumentType("orders", 5.0, timedelta(days=30)),
}


class ListSource:
    """Documents appended by the test, read from a numeric position (a journal id)."""

    def __init__(self, name: str, *, fail_after: int | None = None) -> None:
        self.name = name
        self.documents: list[Interaction] = []
        self.reads: list[str] = []
        self.fail_after = fail_after  # batches yielded before the source breaks

    async def read(self, position: str) -> AsyncIterator[Batch]:
        self.reads.append(position)
        start = int(position or 0)
        for n, offset in enumerate(range(start, len(self.documents), 2)):
            if self.fail_after is not None and n == self.fail_after:
                raise ConnectionError("source went away mid-read")
            chunk: Sequence[Interaction] = self.documents[offset : offset + 2]
            yield Batch(chunk, str(offset + len(chunk)))


class Staff:
    def __init__(self) -> None:
        self.inactive: frozenset[str] = frozenset()

    async def __call__(self) -> frozenset[str]:
        return self.inactive


def context() -> JobContext:
    return JobContext("routing_table", START)


def make_job(
    db: Database, clock: FakeClock, *sources: ListSource, write_every: int = 1000
) -> tuple[RoutingTableJob, list[int]]:
    warmed: list[int] = []

    async def prewarm() -> int:
        warmed.append(1)
        return 7

    job = RoutingTableJob(
        RoutingStore(db),
        sources,
        TYPES,
        clock,
        prewarm=prewarm,
        write_every=write_every,
    )
    return job, warmed


def table(
    db: Database, clock: FakeClock, staff: Staff | None = None, types=TYPES
) -> RoutingTable:
    return RoutingTable(RoutingStore(db), types, clock, staff or Staff())


async def ranked(db: Database, clock: FakeClock, client: str) -> ClientRanking:
    ranking = await table(db, clock).ranking(client)
    assert ranking is not None
    return ranking


async def test_first_run_folds_everything_and_prewarms(db: Database) -> None:
    clock = FakeClock(START)
    calls = ListSource("calls")
    calls.documents = [
        Interaction("+79160000001", "anna", "calls", START - timedelta(days=1)),
        Interaction(
            "+79160000001", "anna", "calls", START - timedelta(days=1, hours=2)
        ),
        Interaction("+79160000001", "boris", "calls", START - timedelta(days=2)),
        Interaction("+79160000002", "boris", "calls", START - timedelta(days=3)),
    ]
    job, warmed = make_job(db, clock, calls)
    report = await job(context())
    assert report.counters == {
        "documents": 4,
        "clients_touched": 2,
        "contributions_pruned": 0,
        "phrases_warmed": 7,
    }
    assert warmed == [1]
    ranking = await ranked(db, clock, "+79160000001")
    assert [(r.employee, r.score, r.responsible) for r in ranking.employees] == [
        ("anna", 2.0, True),
        ("boris", 1.0, False),
    ]
    assert ranking.employees[0].reason() == "score 2 = calls: 2 × 1"
    assert await table(db, clock).ranking("+79169999999") is None


async def test_incremental_run_reads_from_checkpoint_and_touches_only_new_clients(
    db: Database,
) -> None:
    clock = FakeClock(START)
    calls = ListSource("calls")
    calls.documents = [Interaction("c1", "anna", "calls", START - timedelta(days=1))]
    job, _ = make_job(db, clock, calls)
    await job(context())
    clock.advance(900)
    calls.documents.append(Interaction("c2", "boris", "calls", clock.now()))
    report = await job(context())
    assert report.counters["documents"] == 1
    assert report.counters["clients_touched"] == 1
    assert calls.reads == ["", "1"]
    assert (await ranked(db, clock, "c2")).employees[0].employee == "boris"


async def test_a_restarted_job_resumes_from_the_stored_checkpoint(db: Database) -> None:
    clock = FakeClock(START)
    calls = ListSource("calls")
    calls.documents = [Interaction("c1", "anna", "calls", START) for _ in range(3)]
    first, _ = make_job(db, clock, calls)
    await first(context())
    second, _ = make_job(db, clock, calls)
    report = await second(context())
    assert report.counters["documents"] == 0
    assert (await ranked(db, clock, "c1")).employees[0].score == 3.0


async def test_a_source_failing_mid_read_never_folds_a_batch_twice(
    db: Database,
) -> None:
    """The checkpoint moves in the documents' own transaction: the failed run
    keeps the batch it was given, and the next run starts right after it."""
    clock = FakeClock(START)
    calls = ListSource("calls", fail_after=1)
    calls.documents = [Interaction("c1", "anna", "calls", START) for _ in range(5)]
    job, _ = make_job(db, clock, calls)
    with pytest.raises(ConnectionError):
        await job(context())
    assert (await ranked(db, clock, "c1")).employees[0].score == 2.0
    calls.fail_after = None
    report = await job(context())
    assert report.counters["documents"] == 3
    assert calls.reads == ["", "2"]
    assert (await ranked(db, clock, "c1")).employees[0].score == 5.0


async def test_writes_overlapping_the_reads_keep_their_order_and_checkpoints(
    db: Database,
) -> None:
    """Every 3 documents a write starts while the next batches are folded; a
    source breaking after 4 batches leaves 8 documents folded, none twice."""
    clock = FakeClock(START)
    calls = ListSource("calls", fail_after=4)
    calls.documents = [Interaction("c1", "anna", "calls", START) for _ in range(11)]
    job, _ = make_job(db, clock, calls, write_every=3)
    with pytest.raises(ConnectionError):
        await job(context())
    assert (await ranked(db, clock, "c1")).employees[0].score == 8.0
    calls.fail_after = None
    report = await job(context())
    assert report.counters["documents"] == 3
    assert calls.reads == ["", "8"]
    assert (await ranked(db, clock, "c1")).employees[0].score == 11.0


async def test_documents_leaving_validity_drop_out_without_a_run(
    db: Database,
) -> None:
    clock = FakeClock(START)
    orders, calls = ListSource("orders"), ListSource("calls")
    orders.documents = [Interaction("c1", "vera", "orders", START - timedelta(days=29))]
    calls.documents = [Interaction("c1", "anna", "calls", START - timedelta(days=10))]
    job, _ = make_job(db, clock, orders, calls)
    await job(context())
    ranking = await ranked(db, clock, "c1")
    assert ranking.responsible is not None
    assert ranking.responsible.employee == "vera"
    clock.advance(timedelta(days=1, hours=1).total_seconds())
    assert [r.employee for r in (await ranked(db, clock, "c1")).employees] == ["anna"]


async def test_future_dated_documents_count_once_they_are_due(db: Database) -> None:
    clock = FakeClock(START)
    calls = ListSource("calls")
    calls.documents = [Interaction("c1", "anna", "calls", START + timedelta(hours=3))]
    job, _ = make_job(db, clock, calls)
    await job(context())
    assert await table(db, clock).ranking("c1") is None
    clock.advance(timedelta(hours=4).total_seconds())
    assert (await ranked(db, clock, "c1")).employees[0].employee == "anna"


async def test_a_dismissed_responsible_is_replaced_by_the_next(db: Database) -> None:
    clock = FakeClock(START)
    staff = Staff()
    calls = ListSource("calls")
    calls.documents = [
        Interaction("c1", "anna", "calls", START),
        Interaction("c1", "anna", "calls", START),
        Interaction("c1", "boris", "calls", START),
    ]
    job, _ = make_job(db, clock, calls)
    await job(context())
    staff.inactive = frozenset({"anna"})
    ranking = await table(db, clock, staff).ranking("c1")
    assert ranking is not None
    assert [(r.employee, r.responsible) for r in ranking.employees] == [("boris", True)]


async def test_changed_weights_apply_at_the_next_read(db: Database) -> None:
    clock = FakeClock(START)
    calls, orders = ListSource("calls"), ListSource("orders")
    calls.documents = [Interaction("c1", "anna", "calls", START) for _ in range(3)]
    orders.documents = [Interaction("c1", "boris", "orders", START)]
    job, _ = make_job(db, clock, calls, orders)
    await job(context())
    assert (await ranked(db, clock, "c1")).employees[0].employee == "boris"
    cheap_orders = {**TYPES, "orders": DocumentType("orders", 1.0, timedelta(30))}
    ranking = await table(db, clock, types=cheap_orders).ranking("c1")
    assert ranking is not None
    assert ranking.employees[0].employee == "anna"


async def test_expired_weeks_are_pruned_and_live_ones_kept(db: Database) -> None:
    clock = FakeClock(START)
    calls = ListSource("calls")
    calls.documents = [
        Interaction("c1", "anna", "calls", START - timedelta(days=20)),
        Interaction("c1", "anna", "calls", START - timedelta(days=21)),
    ]
    job, _ = make_job(db, clock, calls)
    assert (await job(context())).counters["contributions_pruned"] == 0
    keep = TYPES["calls"].validity + PRUNE_MARGIN
    clock.advance(keep.total_seconds())
    calls.documents.append(Interaction("c1", "boris", "calls", clock.now()))
    report = await job(context())
    assert report.counters["contributions_pruned"] == 2
    assert await RoutingStore(db).contribution_count() == 1
    assert [r.employee for r in (await ranked(db, clock, "c1")).employees] == ["boris"]


async def test_documents_past_every_validity_are_not_written(db: Database) -> None:
    """A first run over years of journal writes only what can still count."""
    clock = FakeClock(START)
    calls = ListSource("calls")
    keep = TYPES["calls"].validity + PRUNE_MARGIN
    calls.documents = [
        Interaction("c1", "anna", "calls", START - keep - timedelta(days=1)),
        Interaction("c1", "anna", "calls", START - keep - timedelta(days=400)),
        Interaction("c1", "boris", "calls", START - timedelta(days=2)),
    ]
    job, _ = make_job(db, clock, calls)
    report = await job(context())
    assert report.counters["documents"] == 3
    assert await RoutingStore(db).contribution_count() == 1


def folded_by_day(docs: Iterable[Interaction]) -> list[Interaction]:
    """The documented approximation, written independently of the store: documents
    of one client, employee, type and UTC day count as one, dated by the latest."""
    days: dict[tuple[str, str, str, object], list[Interaction]] = defaultdict(list)
    for d in docs:
        days[(d.client, d.employee, d.doc_type, d.at.astimezone(UTC).date())].append(d)
    return [
        Interaction(c, e, t, max(d.at for d in group), sum(d.count for d in group))
        for (c, e, t, _), group in days.items()
    ]


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_incremental_runs_equal_the_pure_specification(
    db: Database, seed: int
) -> None:
    """Random documents arrive over simulated days (several types, expiring ones,
    future-dated ones, inactive staff); after every run each client's ranking must
    be what `ranking.rank` gives for everything seen so far."""
    rnd = random.Random(seed)
    clock = FakeClock(START)
    staff = Staff()
    staff.inactive = frozenset({"e5"})
    calls, orders = ListSource("calls"), ListSource("orders")
    job, _ = make_job(db, clock, calls, orders, write_every=17)
    reader = table(db, clock, staff)
    for _day in range(6):
        for _ in range(60):
            doc = Interaction(
                f"c{rnd.randrange(12)}",
                f"e{rnd.randrange(6)}",
                rnd.choice(["calls", "calls", "orders"]),
                clock.now() - timedelta(minutes=rnd.randrange(-600, 45 * 24 * 60)),
                rnd.choice([1, 1, 2]),
            )
            (calls if doc.doc_type == "calls" else orders).documents.append(doc)
        await job(context())
        everything = folded_by_day(calls.documents + orders.documents)
        expected = rank(everything, TYPES, clock.now(), inactive=staff.inactive)
        for client in {d.client for d in everything}:
            got = await reader.ranking(client)
            want = expected.get(client)
            assert (got.employees if got else None) == (
                want.employees if want else None
            ), client
        clock.advance(timedelta(days=5, hours=7).total_seconds())
