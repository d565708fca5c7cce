"""One timer for every parked poll: each woken at its deadline, never before."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from bridge.longpoll.deadlines import Deadlines


async def test_each_future_wakes_not_before_its_deadline_in_order() -> None:
    loop = asyncio.get_running_loop()
    deadlines = Deadlines()
    now = loop.time()
    woken: list[tuple[float, float]] = []  # (deadline, woken at)

    def record(when: float) -> Callable[[object], None]:
        return lambda _future: woken.append((when, loop.time()))

    futures = []
    for offset in (0.3, 0.0, 0.12, 0.12, 0.07):
        future: asyncio.Future[None] = loop.create_future()
        when = now + offset
        deadlines.add(future, when)
        future.add_done_callback(record(when))
        futures.append(future)
    async with asyncio.timeout(5):
        await asyncio.gather(*futures)
    assert all(at >= when for when, at in woken)
    assert [when for when, _ in woken] == sorted(when for when, _ in woken)


async def test_a_removed_future_is_not_woken_and_others_still_are() -> None:
    loop = asyncio.get_running_loop()
    deadlines = Deadlines()
    gone: asyncio.Future[None] = loop.create_future()
    kept: asyncio.Future[None] = loop.create_future()
    deadlines.remove(gone, deadlines.add(gone, loop.time()))
    deadlines.add(kept, loop.time() + 0.06)
    async with asyncio.timeout(5):
        await kept
    assert not gone.done()
