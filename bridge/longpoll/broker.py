"""The contact-data broker: questions for 1C, answered by whichever 1C polls first.

An asker (the crmd listener, panel authorization, the panel banner) submits a
request and waits with a deadline. 1C consumers long-poll for requests; each request
is handed to exactly one consumer (a work queue, not a broadcast) and answered by
id. Past the deadline the asker gets a `Fallback` outcome, never a hang; an answer
that arrives later is refused as late.

Requests live in memory only: an asker waits a few seconds at most, so there is
nothing worth keeping across a restart. A request handed to a poll whose client has
already gone is put back in the queue for the next consumer.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import uuid
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bridge.clock import Clock

log = logging.getLogger(__name__)
Alive = Callable[[], bool]
# Expired ids may sit in the queue this much beyond twice the open requests
# before it is rebuilt (cheap lazy skipping below that).
_QUEUE_SLACK = 64


class RequestKind(enum.StrEnum):
    CALLER_ID = "caller_id"
    PANEL_AUTH = "panel_auth"
    CONTACT_CARD = "contact_card"
    IVR_TEXT = "ivr_text"
    # ModuleSmartIVR tells 1C which extension the IVR lives on (setcallbacknumber).
    IVR_CALLBACK_NUMBER = "ivr_callback_number"


@dataclass(frozen=True, slots=True)
class ContactRequest:
    id: str
    kind: RequestKind
    payload: dict[str, Any]
    deadline: datetime


@dataclass(frozen=True, slots=True)
class Answered:
    """1C answered with data."""

    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Refused:
    """1C answered with an error text of its own (e.g. "контакт не найден")."""

    cause: str


class FallbackReason(enum.StrEnum):
    TIMEOUT = "timeout"
    CLOSED = "closed"
    OVERLOADED = "overloaded"
    NO_CONSUMER = "no_consumer"


@dataclass(frozen=True, slots=True)
class Fallback:
    """1C did not answer in time, or the channel could not take the request."""

    reason: FallbackReason
    detail: str


Outcome = Answered | Refused | Fallback


class AnswerError(Exception):
    """An answer that cannot be accepted; `request_id` names the request."""

    def __init__(self, request_id: str, message: str) -> None:
        super().__init__(message)
        self.request_id = request_id


class UnknownRequest(AnswerError):
    pass


class LateAnswer(AnswerError):
    """The asker stopped waiting (deadline) before the answer came."""


class DuplicateAnswer(AnswerError):
    pass


class NotAssigned(AnswerError):
    """Answered by a consumer the request was not handed to (or not yet handed out)."""


class _Finish(enum.Enum):
    ANSWERED = "answered"
    EXPIRED = "expired"


@dataclass(slots=True)
class _Open:
    request: ContactRequest
    outcome: asyncio.Future[Outcome]
    assignee: str = ""


@dataclass(slots=True)
class _Waiter:
    consumer: str
    alive: Alive
    future: asyncio.Future[list[ContactRequest]] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class ContactBroker:
    def __init__(
        self,
        clock: Clock,
        *,
        max_pending: int = 1000,
        remember_finished: int = 10_000,
    ) -> None:
        self._clock = clock
        self._max_pending = max_pending
        self._remember = remember_finished
        self._open: dict[str, _Open] = {}
        self._queue: deque[str] = deque()  # ids not yet handed out
        self._waiters: deque[_Waiter] = deque()
        self._finished: OrderedDict[str, _Finish] = OrderedDict()
        self._last_poll: dict[str, float] = {}
        self._stopping = False

    # -- askers ---------------------------------------------------------------

    async def ask(
        self, kind: RequestKind, payload: dict[str, Any], deadline_seconds: float
    ) -> Outcome:
        """Queue a request and wait for 1C's answer, at most `deadline_seconds`."""
        if self.pending >= self._max_pending:
            return Fallback(
                FallbackReason.OVERLOADED,
                f"{self.pending} requests already wait for 1C",
            )
        request = ContactRequest(
            id=uuid.uuid4().hex,
            kind=kind,
            payload=payload,
            deadline=self._clock.now() + timedelta(seconds=deadline_seconds),
        )
        entry = _Open(request, asyncio.get_running_loop().create_future())
        self._open[request.id] = entry
        self._dispatch(request.id)
        try:
            async with asyncio.timeout(deadline_seconds):
                return await asyncio.shield(entry.outcome)
        except TimeoutError:
            if entry.outcome.done():  # answered in the same tick the deadline hit
                return entry.outcome.result()
            return Fallback(
                FallbackReason.TIMEOUT,
                f"1C did not answer within {deadline_seconds:g} s",
            )
        finally:
            if self._open.pop(request.id, None) is not None:
                self._remember_finished(request.id, _Finish.EXPIRED)
                self._compact()

    @property
    def pending(self) -> int:
        """Requests not yet answered (queued or handed to a consumer)."""
        return len(self._open)

    # -- consumers ------------------------------------------------------------

    async def take(
        self, consumer: str, *, wait: float, limit: int, alive: Alive
    ) -> list[ContactRequest]:
        """Requests for `consumer`: at once if any are queued, else within `wait` s.

        `alive` says whether the poll's client is still connected; a request is never
        handed to a poll that has gone away.
        """
        self._last_poll[consumer] = self._clock.monotonic()
        batch = self._pop(consumer, limit)
        if batch or wait <= 0 or self._stopping:
            return batch
        waiter = _Waiter(consumer, alive)
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout(wait):
                batch = await waiter.future
        except TimeoutError:
            # The wait may have ended in the same tick requests were handed over.
            batch = _handed(waiter)
        except BaseException:
            # Cancelled after being handed requests: give them to someone else.
            self.release(_handed(waiter))
            raise
        finally:
            self._last_poll[consumer] = self._clock.monotonic()
            if not waiter.future.done():
                waiter.future.cancel()
        if not alive():
            self.release(batch)
            return []
        # Requests that queued up while this poll was waking ride along: in a
        # burst 1C then gets them in one answer instead of one poll each.
        return batch + self._pop(consumer, limit - len(batch))

    def wake_all(self) -> None:
        """End every parked poll with an empty batch (the service is stopping)."""
        self._stopping = True
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.future.done():
                waiter.future.set_result([])

    def release(self, requests: list[ContactRequest]) -> None:
        """Put requests back (their poll could not deliver them), oldest first."""
        for request in reversed(requests):
            entry = self._open.get(request.id)
            if entry is not None and not entry.outcome.done():
                entry.assignee = ""
                self._queue.appendleft(request.id)
        for request_id in list(self._queue)[: len(requests)]:
            self._dispatch_queued(request_id)

    def answer(
        self, consumer: str, request_id: str, outcome: Answered | Refused
    ) -> None:
        """Deliver 1C's answer to the waiting asker; raises an `AnswerError`."""
        entry = self._open.get(request_id)
        if entry is None:
            raise self._closed_error(request_id)
        if entry.assignee != consumer:
            raise NotAssigned(
                request_id,
                f"request {request_id} was not handed to consumer {consumer}",
            )
        if entry.outcome.done():
            raise DuplicateAnswer(
                request_id, f"request {request_id} is already answered"
            )
        entry.outcome.set_result(outcome)
        del self._open[request_id]
        self._remember_finished(request_id, _Finish.ANSWERED)

    def get(self, request_id: str) -> ContactRequest | None:
        entry = self._open.get(request_id)
        return entry.request if entry is not None else None

    # -- health ---------------------------------------------------------------

    @property
    def parked(self) -> int:
        """Consumer polls currently held open, waiting for requests."""
        return sum(1 for w in self._waiters if not w.future.done() and w.alive())

    def seconds_since_poll(self) -> float | None:
        """Since the most recent poll by any consumer; None if none ever polled."""
        if self.parked:
            return 0.0
        if not self._last_poll:
            return None
        return self._clock.monotonic() - max(self._last_poll.values())

    # -- internals ------------------------------------------------------------

    def _dispatch(self, request_id: str) -> None:
        self._queue.append(request_id)
        self._dispatch_queued(request_id)

    def _dispatch_queued(self, request_id: str) -> None:
        """Hand a queued request straight to the longest-parked live poll, if any."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if waiter.future.done():
                continue
            if not waiter.alive():
                waiter.future.set_result([])
                continue
            entry = self._open.get(request_id)
            if entry is None or entry.assignee:
                self._waiters.appendleft(waiter)
                return
            self._queue.remove(request_id)
            entry.assignee = waiter.consumer
            waiter.future.set_result([entry.request])
            return

    def _pop(self, consumer: str, limit: int) -> list[ContactRequest]:
        batch: list[ContactRequest] = []
        while self._queue and len(batch) < limit:
            entry = self._open.get(self._queue.popleft())
            if entry is None or entry.assignee:
                continue  # the asker gave up, or it was handed out already
            entry.assignee = consumer
            batch.append(entry.request)
        return batch

    def _compact(self) -> None:
        """Drop ids of expired requests from the queue while no consumer polls."""
        if len(self._queue) > 2 * len(self._open) + _QUEUE_SLACK:
            self._queue = deque(i for i in self._queue if i in self._open)

    def _closed_error(self, request_id: str) -> AnswerError:
        finished = self._finished.get(request_id)
        if finished is _Finish.ANSWERED:
            return DuplicateAnswer(
                request_id, f"request {request_id} is already answered"
            )
        if finished is _Finish.EXPIRED:
            return LateAnswer(
                request_id,
                f"request {request_id} expired: the asker got the fallback answer",
            )
        return UnknownRequest(request_id, f"no request {request_id} is waiting")

    def _remember_finished(self, request_id: str, how: _Finish) -> None:
        self._finished[request_id] = how
        while len(self._finished) > self._remember:
            self._finished.popitem(last=False)


def _handed(waiter: _Waiter) -> list[ContactRequest]:
    future = waiter.future
    return future.result() if future.done() and not future.cancelled() else []
