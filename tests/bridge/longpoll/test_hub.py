"""The events hub on real SQLite and PostgreSQL: durability, order, wake-ups, resets."""

from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from bridge.call_events import CallEvent, CallKind, CallState, Direction, Party
from bridge.clock import FakeClock
from bridge.longpoll.config import EventsConfig
from bridge.longpoll.cursor import Cursor, ResetReason
from bridge.longpoll.event_log import EventLog, EventLogError
from bridge.longpoll.hub import EventHub, PollAnswer
from bridge.longpoll.sqlite_appender import CHECKPOINT_EVERY
from bridge.storage.database import Database


def make_hub(db: Database, clock: FakeClock, **cfg: Any) -> EventHub:
    return EventHub(EventLog(db), EventsConfig(**cfg), clock, CollectorRegistry())


@pytest.fixture
async def hub(db: Database, clock: FakeClock) -> AsyncIterator[EventHub]:
    h = make_hub(db, clock)
    await h.start()
    try:
        yield h
    finally:
        await h.stop()


def data(answer: PollAnswer) -> list[dict[str, Any]]:
    return [json.loads(e.json) for e in answer.events]


def call(ext_from: str = "", ext_to: str = "") -> CallEvent:
    return CallEvent(
        call_id="c1",
        linkedid="l1",
        time=datetime(2026, 1, 5, 9, 0, tzinfo=UTC),
        state=CallState.CALLING,
        kind=CallKind.RINGING,
        direction=Direction.INTERNAL,
        **{"from": Party(extension=ext_from)},
        to=Party(extension=ext_to),
    )


async def test_published_events_come_back_in_order_with_ids(hub: EventHub) -> None:
    start = hub.bounds.head_cursor
    ids = [await hub.publish("test", {"n": i}) for i in range(3)]
    answer = await hub.poll(start, extension=None, wait=0, limit=10)
    got = data(answer)
    assert [e["data"]["n"] for e in got] == [0, 1, 2]
    assert [e["id"] for e in got] == ids
    assert str(answer.cursor) == ids[-1]  # an event id is the cursor after it


async def test_concurrent_publishes_are_stored_in_one_order(hub: EventHub) -> None:
    start = hub.bounds.head_cursor
    ids = await asyncio.gather(*(hub.publish("t", {"n": i}) for i in range(200)))
    answer = await hub.poll(start, extension=None, wait=0, limit=500)
    got = data(answer)
    assert len(got) == 200
    seqs = [Cursor.parse(e["id"]).seq for e in got]
    assert seqs == sorted(seqs)
    assert sorted(e["id"] for e in got) == sorted(ids)


async def test_parked_poll_is_woken_by_a_publish(hub: EventHub) -> None:
    start = hub.bounds.head_cursor
    poll = asyncio.create_task(hub.poll(start, extension=None, wait=30, limit=10))
    async with asyncio.timeout(5):
        await hub.until_parked(1)
        await hub.publish("t", {"n": 1})
        answer = await poll
    assert [e["data"]["n"] for e in data(answer)] == [1]
    assert hub.parked == 0


async def test_panel_sees_only_its_extension(hub: EventHub) -> None:
    start = hub.bounds.head_cursor
    panel = asyncio.create_task(hub.poll(start, extension="102", wait=30, limit=10))
    async with asyncio.timeout(5):
        await hub.until_parked(1)
        await hub.publish_call(call("101", "103"))  # not the panel's
        await hub.publish("history.updated", {"x": 1}, extensions=frozenset({"102"}))
        answer = await panel
    assert [e["topic"] for e in data(answer)] == ["history.updated"]
    everything = await hub.poll(start, extension=None, wait=0, limit=10)
    assert [e["topic"] for e in data(everything)] == ["call", "history.updated"]


async def test_timeout_answers_empty_with_the_cursor_unchanged(hub: EventHub) -> None:
    start = hub.bounds.head_cursor
    answer = await hub.poll(start, extension=None, wait=0, limit=10)
    assert answer.events == []
    assert answer.cursor == start
    answer = await hub.poll(start, extension=None, wait=0.05, limit=10)
    assert (answer.events, answer.cursor) == ([], start)


async def test_interrupt_answers_parked_polls_at_once(hub: EventHub) -> None:
    start = hub.bounds.head_cursor
    polls = [
        asyncio.create_task(hub.poll(start, extension=ext, wait=30, limit=10))
        for ext in (None, "101")
    ]
    async with asyncio.timeout(5):
        await hub.until_parked(2)
        hub.close_polls()
        answers = await asyncio.gather(*polls)
    assert all(a.events == [] for a in answers)


async def test_cursors_stay_valid_across_a_restart(
    db: Database, clock: FakeClock
) -> None:
    first = make_hub(db, clock)
    await first.start()
    start = first.bounds.head_cursor
    mid = [await first.publish("t", {"n": i}) for i in range(5)][2]
    await first.stop()

    second = make_hub(db, clock)
    await second.start()
    try:
        assert second.bounds.epoch == start.epoch
        answer = await second.poll(Cursor.parse(mid), extension=None, wait=0, limit=10)
        assert [e["data"]["n"] for e in data(answer)] == [3, 4]
        new_id = await second.publish("t", {"n": 5})
        assert Cursor.parse(new_id).seq > Cursor.parse(mid).seq
    finally:
        await second.stop()


async def test_poll_older_than_the_memory_tail_reads_the_database(
    db: Database, clock: FakeClock
) -> None:
    h = make_hub(db, clock, memory_tail=100)
    await h.start()
    try:
        start = h.bounds.head_cursor
        await asyncio.gather(*(h.publish("t", {"n": i}) for i in range(350)))
        seen: list[int] = []
        cursor = start
        while len(seen) < 350:
            answer = await h.poll(cursor, extension=None, wait=0, limit=60)
            seen += [e["data"]["n"] for e in data(answer)]
            cursor = answer.cursor
        assert sorted(seen) == list(range(350))
        assert len(seen) == 350
    finally:
        await h.stop()


async def test_retention_keeps_an_hour_and_a_thousand_then_resets(
    hub: EventHub, clock: FakeClock
) -> None:
    start = hub.bounds.head_cursor
    await asyncio.gather(*(hub.publish("old", {"n": i}) for i in range(1100)))
    await hub.prune()
    assert hub.bounds.pruned_through == 0  # younger than an hour: all kept
    clock.advance(3601)
    await hub.prune()
    # Older than an hour, but only the first 100 are beyond the newest 1,000.
    assert hub.bounds.pruned_through == start.seq + 100
    answer = await hub.poll(start, extension=None, wait=0, limit=10)
    assert answer.events == []
    assert answer.reset is not None
    assert answer.reset.reason is ResetReason.EXPIRED
    assert answer.reset.lost_through == Cursor(start.epoch, start.seq + 100)
    resumed = await hub.poll(answer.cursor, extension=None, wait=0, limit=5)
    assert [e["data"]["n"] for e in data(resumed)] == [100, 101, 102, 103, 104]


async def test_pruning_survives_a_restart(db: Database, clock: FakeClock) -> None:
    first = make_hub(db, clock)
    await first.start()
    start = first.bounds.head_cursor
    await asyncio.gather(*(first.publish("t", {"n": i}) for i in range(1010)))
    clock.advance(7200)
    await first.prune()
    await first.stop()
    second = make_hub(db, clock)
    await second.start()
    try:
        answer = await second.poll(start, extension=None, wait=0, limit=5)
        assert answer.reset is not None
        assert answer.reset.reason is ResetReason.EXPIRED
    finally:
        await second.stop()


async def test_a_cursor_from_another_epoch_is_reset(hub: EventHub) -> None:
    await hub.publish("t", {})
    answer = await hub.poll(Cursor("feed", 1), extension=None, wait=0, limit=10)
    assert answer.reset is not None
    assert answer.reset.reason is ResetReason.EPOCH
    assert answer.cursor == hub.bounds.head_cursor


async def test_two_instances_on_one_log_see_each_others_events(
    db: Database, clock: FakeClock
) -> None:
    """Cluster (PRODUCT §10): two hubs append to one log; neither skips the other's."""
    a = EventHub(EventLog(db), EventsConfig(), clock, CollectorRegistry(), shared=True)
    b = EventHub(EventLog(db), EventsConfig(), clock, CollectorRegistry(), shared=True)
    await a.start()
    await b.start()
    try:
        assert a.bounds.epoch == b.bounds.epoch
        start = b.bounds.head_cursor
        parked = asyncio.create_task(b.poll(start, extension=None, wait=30, limit=10))
        async with asyncio.timeout(5):
            await b.until_parked(1)
            first = await a.publish("t", {"n": 1})  # on the other instance
            b.catch_up()  # what the periodic catch-up task does
            answer = await parked
        assert [e["id"] for e in data(answer)] == [first]
        await a.publish("t", {"n": 2})
        await b.publish("t", {"n": 3})  # b's own write finds a's event in between
        answer = await b.poll(answer.cursor, extension=None, wait=0, limit=10)
        assert [e["data"]["n"] for e in data(answer)] == [2, 3]
    finally:
        await a.stop()
        await b.stop()


async def test_a_prune_by_another_instance_is_not_a_silent_gap(
    db: Database, clock: FakeClock
) -> None:
    a = EventHub(
        EventLog(db),
        EventsConfig(memory_tail=100),
        clock,
        CollectorRegistry(),
        shared=True,
    )
    b = EventHub(
        EventLog(db),
        EventsConfig(memory_tail=100),
        clock,
        CollectorRegistry(),
        shared=True,
    )
    await a.start()
    start = a.bounds.head_cursor
    await asyncio.gather(*(a.publish("t", {"n": i}) for i in range(1200)))
    await b.start()
    try:
        clock.advance(7200)
        await a.prune()  # b has not pruned, and does not know
        answer = await b.poll(start, extension=None, wait=0, limit=10)
        assert answer.reset is not None
        assert answer.reset.reason is ResetReason.EXPIRED
    finally:
        await a.stop()
        await b.stop()


async def test_unserializable_data_fails_its_publisher_only(hub: EventHub) -> None:
    start = hub.bounds.head_cursor
    with pytest.raises(TypeError):
        await hub.publish("t", {"when": datetime.now(UTC)})
    event_id = await hub.publish("t", {"n": 1})  # the writer is still there
    answer = await hub.poll(start, extension=None, wait=0, limit=10)
    assert [e["id"] for e in data(answer)] == [event_id]


async def test_a_database_failure_fails_the_publish_and_recovers(
    hub: EventHub, db: Database
) -> None:
    start = hub.bounds.head_cursor
    async with db.engine.begin() as conn:
        await conn.exec_driver_sql("ALTER TABLE event_log RENAME TO event_log_away")
    with pytest.raises(EventLogError):
        await hub.publish("t", {"n": 1})
    assert hub.last_error
    async with db.engine.begin() as conn:
        await conn.exec_driver_sql("ALTER TABLE event_log_away RENAME TO event_log")
    event_id = await hub.publish("t", {"n": 2})
    assert hub.last_error == ""
    answer = await hub.poll(start, extension=None, wait=0, limit=10)
    assert [e["id"] for e in data(answer)] == [event_id]


async def test_a_publish_waits_off_the_loop_while_another_writer_holds_the_lock(
    sqlite_db: Database, clock: FakeClock
) -> None:
    """SQLite commits on the loop only when the write lock is free: else the loop
    must keep serving while the publish waits for the lock on the thread."""
    hub = make_hub(sqlite_db, clock)
    await hub.start()
    assert sqlite_db.sqlite_file is not None
    other = sqlite3.connect(sqlite_db.sqlite_file, isolation_level=None)
    try:
        start = hub.bounds.head_cursor
        other.execute("BEGIN IMMEDIATE")  # another writer holds the lock
        publish = asyncio.create_task(hub.publish("t", {"n": 1}))
        for _ in range(20):  # the loop runs on: the writer tried, and now waits
            await asyncio.sleep(0)
        assert not publish.done()
        other.execute("ROLLBACK")
        async with asyncio.timeout(5):
            event_id = await publish
        answer = await hub.poll(start, extension=None, wait=0, limit=10)
        assert [e["id"] for e in data(answer)] == [event_id]
    finally:
        other.close()
        await hub.stop()


async def test_the_event_log_is_checkpointed_without_the_loop(
    sqlite_db: Database, clock: FakeClock, tmp_path: Path
) -> None:
    """The loop's connection never checkpoints; the thread does, so the events
    reach the database file itself, not only its write-ahead log."""
    hub = make_hub(sqlite_db, clock)
    await hub.start()
    try:
        for n in range(CHECKPOINT_EVERY):
            await hub.publish("t", {"n": n})
    finally:
        await hub.stop()  # waits for the thread, and so for its checkpoint
    assert sqlite_db.sqlite_file is not None
    # The file without its write-ahead log: only what checkpoints copied.
    copy = tmp_path / "checkpointed.db"
    shutil.copyfile(sqlite_db.sqlite_file, copy)
    check = sqlite3.connect(copy)
    try:
        (count,) = check.execute("SELECT count(*) FROM event_log").fetchone()
    finally:
        check.close()
    assert count == CHECKPOINT_EVERY
