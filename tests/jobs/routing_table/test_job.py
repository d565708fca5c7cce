"""The routing_table job on real databases: incremental folds, expiry, staff changes."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta

import pytest

from bridge.clock import FakeClock
from bridge.storage.database import Database
from jobs.base import JobContext
from jobs.routing_table.job import Batch, RoutingTableJob
from jobs.routing_table.ranking import DocumentType, Interaction, rank
from jobs.routing_table.store import RoutingStore

START = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
TYPES = {
    "calls": DocumentType("calls", 1.0, timedelta(days=90)),
    "orders": DocumentType("orders", 5.0, timedelta(days=30)),
}


class ListSource:
    """Documents appended by the test, read from a numeric position (a journal id)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.documents: list[Interaction] = []
        self.reads: list[str] = []

    async def read(self, position: str) -> AsyncIterator[Batch]:
        self.reads.append(position)
        start = int(position or 0)
        for offset in range(start, len(self.documents), 2):
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
    db: Database, clock: FakeClock, *sources: ListSource, staff: Staff | None = None
):
    warmed: list[int] = []

    async def prewarm() -> int:
        warmed.append(1)
        return 7

    job = RoutingTableJob(
        RoutingStore(db),
        sources,
        TYPES,
        clock,
        inactive=staff or Staff(),
        prewarm=prewarm,
    )
    return job, warmed


async def test_first_run_ranks_everyone_and_prewarms(db: Database) -> None:
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
        "clients_ranked": 2,
        "entries": 3,
        "phrases_warmed": 7,
    }
    assert warmed == [1]
    ranking = await RoutingStore(db).ranking("+79160000001")
    assert ranking is not None
    assert [(r.employee, r.score, r.responsible) for r in ranking.employees] == [
        ("anna", 2.0, True),
        ("boris", 1.0, False),
    ]
    assert ranking.employees[0].reason() == "score 2 = calls: 2 × 1"


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
    assert report.counters["clients_ranked"] == 1
    assert calls.reads == ["", "1"]
    assert (await RoutingStore(db).ranking("c2")) is not None


async def test_a_restarted_job_resumes_from_the_stored_checkpoint(db: Database) -> None:
    clock = FakeClock(START)
    calls = ListSource("calls")
    calls.documents = [Interaction("c1", "anna", "calls", START) for _ in range(3)]
    first, _ = make_job(db, clock, calls)
    await first(context())
    second, _ = make_job(db, clock, calls)
    report = await second(context())
    assert report.counters["documents"] == 0
    ranking = await RoutingStore(db).ranking("c1")
    assert ranking is not None
    assert ranking.employees[0].score == 3.0


async def test_documents_leaving_validity_drop_out_on_the_next_run(
    db: Database,
) -> None:
    clock = FakeClock(START)
    orders, calls = ListSource("orders"), ListSource("calls")
    orders.documents = [Interaction("c1", "vera", "orders", START - timedelta(days=29))]
    calls.documents = [Interaction("c1", "anna", "calls", START - timedelta(days=10))]
    job, _ = make_job(db, clock, orders, calls)
    await job(context())
    ranking = await RoutingStore(db).ranking("c1")
    assert ranking is not None
    assert ranking.responsible is not None
    assert ranking.responsible.employee == "vera"
    clock.advance(timedelta(days=1, hours=1).total_seconds())
    report = await job(context())
    assert report.counters["clients_ranked"] == 1
    ranking = await RoutingStore(db).ranking("c1")
    assert ranking is not None
    assert [r.employee for r in ranking.employees] == ["anna"]


async def test_a_dismissed_responsible_is_replaced_by_the_next(db: Database) -> None:
    clock = FakeClock(START)
    staff = Staff()
    calls = ListSource("calls")
    calls.documents = [
        Interaction("c1", "anna", "calls", START, count=1),
        Interaction("c1", "anna", "calls", START, count=1),
        Interaction("c1", "boris", "calls", START, count=1),
    ]
    job, _ = make_job(db, clock, calls, staff=staff)
    await job(context())
    staff.inactive = frozenset({"anna"})
    await job(context())
    ranking = await RoutingStore(db).ranking("c1")
    assert ranking is not None
    assert [(r.employee, r.responsible) for r in ranking.employees] == [("boris", True)]


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_the_database_build_equals_the_pure_specification(
    db: Database, seed: int
) -> None:
    """`sql_build` ranks inside the database; `ranking.rank` is the rule it must
    follow. Random documents (several types, expiring, future, inactive staff)
    must give identical tables, order and explanations included."""
    rnd = random.Random(seed)
    docs = [
        Interaction(
            f"c{rnd.randrange(15)}",
            f"e{rnd.randrange(6)}",
            rnd.choice(["calls", "calls", "orders"]),
            START - timedelta(minutes=rnd.randrange(-600, 45 * 24 * 60)),
        )
        for _ in range(400)
    ]
    inactive = frozenset({"e5"})
    store = RoutingStore(db)
    await store.rebuild(docs, TYPES, START, inactive)
    expected = rank(docs, TYPES, START, inactive=inactive)
    for client in {d.client for d in docs}:
        got = await store.ranking(client)
        want = expected.get(client)
        if want is None:
            assert got is None
            continue
        assert got is not None
        assert [
            (r.employee, r.score, r.responsible, r.shares) for r in got.employees
        ] == [(r.employee, r.score, r.responsible, r.shares) for r in want.employees]
        # Same-day documents fold, so recency is the day's latest document.
        assert [r.last_at for r in got.employees] == [r.last_at for r in want.employees]
