"""Waiting for a condition inside one event loop without sleeping for time."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable


async def until(predicate: Callable[[], Awaitable[bool]]) -> None:
    """Yield to the loop until `predicate` holds (callers bound it with a timeout)."""
    for _ in itertools.count():
        if await predicate():
            return
        await asyncio.sleep(0)
