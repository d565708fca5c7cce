"""`while_leading`: work runs only while the lock is held, and stops when it is lost."""

from __future__ import annotations

import asyncio

from jobs.leader import while_leading


class FlakyLock:
    """Granted on every acquire; reports itself lost after `held_checks` checks."""

    def __init__(self, held_checks: int) -> None:
        self.held_checks = held_checks
        self.acquired = 0
        self.released = 0

    async def acquire(self) -> bool:
        self.acquired += 1
        return True

    async def still_held(self) -> bool:
        self.held_checks -= 1
        return self.held_checks >= 0

    async def release(self) -> None:
        self.released += 1


async def test_work_is_cancelled_when_the_lock_is_lost_then_resumed() -> None:
    lock = FlakyLock(held_checks=1)
    started: list[int] = []
    cancelled: list[int] = []
    standbys: list[int] = []
    second_start = asyncio.Event()

    async def work() -> None:
        started.append(len(started))
        if len(started) == 2:
            second_start.set()
            return  # the second term ends on its own: while_leading returns
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append(len(started))
            raise

    async with asyncio.timeout(10):
        await while_leading(lock, work, every=0.01, standby=lambda: standbys.append(1))
    assert second_start.is_set()
    assert cancelled == [1]  # the first term stopped when the lock was lost
    assert standbys == [1]
    assert (lock.acquired, lock.released) == (2, 2)
