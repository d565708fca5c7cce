"""Export-ready notices (`history_file_completed`) handed to whoever ordered them.

The call journal orders an export with `domain_call_history`, gets an `order_id`
and waits here for the PBX's notice; the notice may also arrive before anyone
waits (the export is quick, or the waiter restarted), so recent notices are kept.
Subscribers (e.g. a journal loader reacting to any export) are called too.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable

from pbx.vpbx.models import HistoryFileCompleted

log = logging.getLogger(__name__)
Subscriber = Callable[[HistoryFileCompleted], Awaitable[None]]
KEEP_NOTICES = 256


class HistoryFiles:
    def __init__(self, keep: int = KEEP_NOTICES) -> None:
        self._keep = keep
        self._recent: OrderedDict[str, HistoryFileCompleted] = OrderedDict()
        self._waiters: dict[str, list[asyncio.Future[HistoryFileCompleted]]] = {}
        self._subscribers: list[Subscriber] = []

    def subscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.append(subscriber)

    async def deliver(self, notice: HistoryFileCompleted) -> None:
        """Record the notice, wake its waiters, tell subscribers (whose errors
        are logged: the PBX only needs to know we received it)."""
        export_id = notice.export_id
        self._recent[export_id] = notice
        self._recent.move_to_end(export_id)
        while len(self._recent) > self._keep:
            self._recent.popitem(last=False)
        for waiter in self._waiters.pop(export_id, []):
            if not waiter.done():
                waiter.set_result(notice)
        for subscriber in self._subscribers:
            try:
                await subscriber(notice)
            except Exception:
                log.exception("history_file_completed subscriber failed")

    async def wait(self, order_id: str) -> HistoryFileCompleted:
        """The notice for `order_id`; bound it with `asyncio.timeout` and fall
        back to polling `download_call_history` when it never comes."""
        notice = self._recent.get(order_id)
        if notice is not None:
            return notice
        waiter: asyncio.Future[HistoryFileCompleted]
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(order_id, []).append(waiter)
        try:
            return await waiter
        finally:
            self._forget(order_id, waiter)

    def _forget(
        self, order_id: str, waiter: asyncio.Future[HistoryFileCompleted]
    ) -> None:
        waiters = self._waiters.get(order_id)
        if waiters and waiter in waiters:
            waiters.remove(waiter)
            if not waiters:
                del self._waiters[order_id]
