"""The contact broker on its own: one consumer per request, deadlines, bad answers."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from bridge.clock import FakeClock
from bridge.longpoll.broker import (
    Answered,
    ContactBroker,
    DuplicateAnswer,
    Fallback,
    FallbackReason,
    LateAnswer,
    NotAssigned,
    Refused,
    RequestKind,
    UnknownRequest,
)

CALLER = RequestKind.CALLER_ID


def alive() -> bool:
    return True


async def until(predicate: Callable[[], bool]) -> None:
    """Let other tasks run until `predicate` holds (bounded: no sleeping)."""
    for _ in range(10_000):
        if predicate():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition never became true")


@pytest.fixture
def broker(clock: FakeClock) -> ContactBroker:
    return ContactBroker(clock, max_pending=3, remember_finished=100)


async def test_queued_request_is_taken_at_once_and_answered(broker):
    asking = asyncio.create_task(broker.ask(CALLER, {"number": "+79161234567"}, 5))
    await until(lambda: broker.pending == 1)
    batch = await broker.take("base1", wait=5, limit=10, alive=alive)
    assert [(r.kind, r.payload) for r in batch] == [
        (CALLER, {"number": "+79161234567"})
    ]
    broker.answer("base1", batch[0].id, Answered({"caller_id": "Иванов"}))
    async with asyncio.timeout(5):
        assert await asking == Answered({"caller_id": "Иванов"})
    assert broker.pending == 0


async def test_each_request_goes_to_exactly_one_of_the_parked_consumers(broker):
    polls = [
        asyncio.create_task(broker.take(f"base{i}", wait=30, limit=10, alive=alive))
        for i in range(3)
    ]
    await until(lambda: broker.parked == 3)
    asks = [asyncio.create_task(broker.ask(CALLER, {"n": i}, 5)) for i in range(2)]
    await until(lambda: sum(p.done() for p in polls) == 2)
    done = [p for p in polls if p.done()]
    got = [r for p in done for r in p.result()]
    assert sorted(r.payload["n"] for r in got) == [0, 1]
    # The longest-parked polls were served first, one request each.
    assert polls[0].done()
    assert polls[1].done()
    assert not polls[2].done()
    for poll, request in zip(polls[:2], got, strict=True):
        consumer = "base0" if poll is polls[0] else "base1"
        broker.answer(consumer, request.id, Answered({}))
    async with asyncio.timeout(5):
        await asyncio.gather(*asks)
    polls[2].cancel()
    await asyncio.gather(polls[2], return_exceptions=True)


async def test_silent_1c_gives_the_asker_the_fallback_and_the_answer_is_late(broker):
    asking = asyncio.create_task(broker.ask(CALLER, {}, 0.01))
    await until(lambda: broker.pending == 1)
    [request] = await broker.take("base1", wait=0, limit=1, alive=alive)
    async with asyncio.timeout(5):
        outcome = await asking
    assert isinstance(outcome, Fallback)
    assert outcome.reason is FallbackReason.TIMEOUT
    with pytest.raises(LateAnswer):
        broker.answer("base1", request.id, Answered({}))
    assert broker.pending == 0


async def test_duplicate_unknown_and_foreign_answers_are_refused(broker):
    asking = asyncio.create_task(broker.ask(CALLER, {}, 5))
    await until(lambda: broker.pending == 1)
    [request] = await broker.take("base1", wait=0, limit=1, alive=alive)
    with pytest.raises(NotAssigned):
        broker.answer("base2", request.id, Answered({}))
    broker.answer("base1", request.id, Refused("не найден"))
    with pytest.raises(DuplicateAnswer):
        broker.answer("base1", request.id, Answered({}))
    with pytest.raises(UnknownRequest):
        broker.answer("base1", "nope", Answered({}))
    async with asyncio.timeout(5):
        assert await asking == Refused("не найден")


async def test_an_untaken_request_cannot_be_answered(broker):
    asking = asyncio.create_task(broker.ask(CALLER, {}, 5))
    await until(lambda: broker.pending == 1)
    [request_id] = list(broker._open)
    with pytest.raises(NotAssigned):
        broker.answer("base1", request_id, Answered({}))
    asking.cancel()
    await asyncio.gather(asking, return_exceptions=True)
    assert broker.pending == 0


async def test_a_poll_whose_client_left_is_skipped(broker):
    gone = asyncio.create_task(
        broker.take("dead", wait=30, limit=10, alive=lambda: False)
    )
    await until(lambda: len(broker._waiters) == 1)
    assert broker.parked == 0  # a dead poll is not a consumer
    live = asyncio.create_task(broker.take("live", wait=30, limit=10, alive=alive))
    await until(lambda: broker.parked == 1)
    asking = asyncio.create_task(broker.ask(CALLER, {"x": 1}, 5))
    async with asyncio.timeout(5):
        assert await gone == []
        [request] = await live
    broker.answer("live", request.id, Answered({"ok": True}))
    async with asyncio.timeout(5):
        assert await asking == Answered({"ok": True})


async def test_a_poll_cancelled_after_the_handover_puts_the_request_back(broker):
    poll = asyncio.create_task(broker.take("base1", wait=30, limit=10, alive=alive))
    await until(lambda: broker.parked == 1)
    asking = asyncio.create_task(broker.ask(CALLER, {"x": 1}, 5))
    await until(lambda: broker.pending == 1 and broker.parked == 0)
    poll.cancel()  # before the poll task could run and write its answer
    await asyncio.gather(poll, return_exceptions=True)
    [request] = await broker.take("base2", wait=0, limit=10, alive=alive)
    broker.answer("base2", request.id, Answered({}))
    async with asyncio.timeout(5):
        assert await asking == Answered({})


async def test_a_poll_that_outlives_its_client_returns_the_request(broker):
    connected = True
    poll = asyncio.create_task(
        broker.take("base1", wait=30, limit=10, alive=lambda: connected)
    )
    await until(lambda: broker.parked == 1)
    asking = asyncio.create_task(broker.ask(CALLER, {}, 5))
    connected = False  # the client hung up while the handover was in flight
    async with asyncio.timeout(5):
        assert await poll == []
    [request] = await broker.take("base2", wait=0, limit=10, alive=alive)
    broker.answer("base2", request.id, Answered({}))
    async with asyncio.timeout(5):
        await asking


async def test_requests_are_handed_out_oldest_first_within_the_limit(broker):
    asks = [asyncio.create_task(broker.ask(CALLER, {"n": i}, 5)) for i in range(3)]
    await until(lambda: broker.pending == 3)
    first = await broker.take("base1", wait=0, limit=2, alive=alive)
    second = await broker.take("base1", wait=0, limit=2, alive=alive)
    assert [r.payload["n"] for r in first + second] == [0, 1, 2]
    for request in first + second:
        broker.answer("base1", request.id, Answered({}))
    async with asyncio.timeout(5):
        await asyncio.gather(*asks)


async def test_past_max_pending_askers_get_the_fallback_at_once(broker):
    asks = [asyncio.create_task(broker.ask(CALLER, {}, 5)) for _ in range(3)]
    await until(lambda: broker.pending == 3)
    outcome = await broker.ask(CALLER, {}, 5)
    assert isinstance(outcome, Fallback)
    assert outcome.reason is FallbackReason.OVERLOADED
    for task in asks:
        task.cancel()
    await asyncio.gather(*asks, return_exceptions=True)


async def test_an_idle_poll_returns_empty_when_wait_ends(broker, clock):
    assert broker.seconds_since_poll() is None
    assert await broker.take("base1", wait=0.01, limit=10, alive=alive) == []
    assert broker.parked == 0
    clock.advance(7)
    assert broker.seconds_since_poll() == 7


async def test_stopping_ends_parked_polls_at_once(broker):
    poll = asyncio.create_task(broker.take("base1", wait=30, limit=10, alive=alive))
    await until(lambda: broker.parked == 1)
    broker.wake_all()
    async with asyncio.timeout(5):
        assert await poll == []
    assert await broker.take("base1", wait=30, limit=10, alive=alive) == []


async def test_a_burst_rides_along_with_the_woken_poll(broker):
    poll = asyncio.create_task(broker.take("base1", wait=30, limit=10, alive=alive))
    await until(lambda: broker.parked == 1)
    # Three questions in the same tick: the first wakes the poll, the others queue.
    asks = [asyncio.create_task(broker.ask(CALLER, {"n": i}, 5)) for i in range(3)]
    async with asyncio.timeout(5):
        batch = await poll
    assert [r.payload["n"] for r in batch] == [0, 1, 2]
    for request in batch:
        broker.answer("base1", request.id, Answered({}))
    async with asyncio.timeout(5):
        await asyncio.gather(*asks)


async def test_expired_requests_do_not_pile_up_while_nobody_polls(clock):
    broker = ContactBroker(clock, max_pending=10_000)
    for _ in range(300):
        outcome = await broker.ask(CALLER, {}, 0.0001)
        assert isinstance(outcome, Fallback)
    assert broker.pending == 0
    assert len(broker._queue) <= 64 + 1
