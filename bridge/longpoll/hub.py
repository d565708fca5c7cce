"""The events hub: publish into the durable log, wake parked polls, answer them.

Publishers (PBX adapters through `EventSink`, `POST /api/v1/events`) hand events to
one writer task that stores concurrent publishes in one transaction. After the
commit the events join a bounded in-memory tail and the parked polls that can see
them are woken; a poll is answered from the tail, and from the database only when
its cursor is older than the tail (after a restart, or a consumer far behind).

Each parked poll is an explicit waiter: a future in the index of who may see what
(1C bases see everything; panels their extension) and in the `Deadlines` that end
its wait, registered for the poll and removed in `finally`. `interrupt()` wakes
every waiter (shutdown, a channel closing). A future and two set entries are all a
parked poll costs the hub: 10,000 of them stay cheap.

A poll may park with a `reply` (the HTTP edge's handle on its connection). When new
events wake such polls, the hub decides their answers right there, once per
distinct (extension, cursor, limit), and hands each answer with its replies to
`answer_early`, which sends them before any handler runs (one event can wake
10,000 polls: issue 3). The poll then returns that same answer.
"""

from __future__ import annotations

import asyncio
import bisect
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from bridge.call_events import CallEvent
from bridge.clock import Clock
from bridge.longpoll.config import EventsConfig
from bridge.longpoll.cursor import (
    Cursor,
    LogBounds,
    Reset,
    StoredEvent,
    check,
    select,
)
from bridge.longpoll.deadlines import Deadlines, wake
from bridge.longpoll.event_log import EventLog, EventLogError, NewEvent

log = logging.getLogger(__name__)
CALL_TOPIC = "call"
_DB_READ_CHUNK = 1000


@dataclass(frozen=True, slots=True)
class PollAnswer:
    events: Sequence[StoredEvent]
    cursor: Cursor
    reset: Reset | None = None


# Sends an answer the hub decided to the replies of the polls it is for.
EarlyAnswer = Callable[[PollAnswer, list[Any]], None]


class _Waiter(asyncio.Future[PollAnswer | None]):
    """A parked poll: resolved with its answer when the hub decided one at the
    wake-up (it has a reply), else with None (read again and answer)."""

    __slots__ = ("after", "limit", "reply")

    def __init__(self, after: int, limit: int, reply: object) -> None:
        super().__init__()
        self.after, self.limit, self.reply = after, limit, reply


# The answers decided in one wake-up: (extension, after, limit) -> answer, replies.
_Early = dict[tuple[str | None, int, int], tuple[PollAnswer | None, list[Any]]]


@dataclass(slots=True)
class _Pending:
    event: NewEvent
    done: asyncio.Future[StoredEvent]


class EventHub:
    """Implements `bridge.call_events.EventSink`; see the module docstring."""

    def __init__(
        self,
        event_log: EventLog,
        config: EventsConfig,
        clock: Clock,
        registry: CollectorRegistry,
        *,
        shared: bool = False,
    ) -> None:
        self._log = event_log
        self._config = config
        self._clock = clock
        self._bounds = LogBounds("", 0, 0)
        self._tail: list[StoredEvent] = []
        self._pending: list[_Pending] = []
        self._work = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None
        self._all: set[_Waiter] = set()
        self._by_extension: dict[str, set[_Waiter]] = {}
        self._deadlines = Deadlines()
        self._stopping = False
        self._draining = False
        self._interrupts = 0
        self._park_watchers: list[tuple[int, asyncio.Future[None]]] = []
        self._catch_up_asked = False
        self.on_commit: list[Callable[[int], None]] = []  # e.g. Redis announcements
        self.answer_early: EarlyAnswer | None = None  # the HTTP edge's direct replies
        # Several instances may append to one PostgreSQL log (PRODUCT §10).
        self._shared = shared
        self.last_error = ""
        self._published = Counter(
            "telebridge_events_published",
            "Events stored in the durable log",
            ["topic"],
            registry=registry,
        )
        # Read when scraped, not counted per park and unpark (a lock each time).
        Gauge(
            "telebridge_events_parked_polls",
            "Long polls waiting for events",
            registry=registry,
        ).set_function(lambda: self.parked)
        self._resets = Counter(
            "telebridge_events_resets",
            "Polls answered with a reset (events the consumer can no longer get)",
            ["reason"],
            registry=registry,
        )
        self._batch = Histogram(
            "telebridge_events_write_batch",
            "Events written per database transaction",
            buckets=(1, 2, 5, 10, 50, 100, 500),
            registry=registry,
        )

    # --- lifecycle ---------------------------------------------------------------

    async def start(self) -> None:
        self._bounds = await self._log.open()
        recent = await self._log.read(
            max(self._bounds.pruned_through, self._bounds.head - self._tail_size()),
            self._tail_size(),
        )
        self._tail = recent
        self._stopping = self._draining = False
        self._writer = asyncio.create_task(self._write_loop(), name="event-writer")
        log.info(
            "event log epoch %s: %d..%d, %d in memory",
            self._bounds.epoch,
            self._bounds.pruned_through,
            self._bounds.head,
            len(recent),
        )

    async def recheck(self) -> str:
        """After a failure, see whether the log answers again; the error or ""."""
        if self.last_error:
            try:
                await self._log.head()
            except EventLogError as exc:
                self.last_error = str(exc)
            else:
                self.last_error = ""
        return self.last_error

    def close_polls(self) -> None:
        """Answer every parked poll now, and new ones at once (shutting down)."""
        self._draining = True
        self.interrupt()

    async def stop(self) -> None:
        """Wake every parked poll; finish writing what was already published."""
        self._stopping = self._draining = True
        self.interrupt()
        self._work.set()
        if self._writer is not None:
            await self._writer
            self._writer = None
        self._log.close()

    @property
    def bounds(self) -> LogBounds:
        return self._bounds

    @property
    def parked(self) -> int:
        return len(self._all) + sum(len(w) for w in self._by_extension.values())

    # --- publishing (EventSink) --------------------------------------------------

    async def publish_call(self, event: CallEvent) -> str:
        return await self.publish(
            CALL_TOPIC, event.as_json(), extensions=frozenset(event.extensions())
        )

    async def publish(
        self,
        topic: str,
        data: dict[str, Any],
        *,
        extensions: frozenset[str] = frozenset(),
    ) -> str:
        """Store durably, wake the consumers; the event id.

        Raises `EventLogError` (not stored), TypeError (data is not JSON).
        """
        if self._stopping or self._writer is None:
            raise EventLogError("the event hub is not running")
        new = NewEvent.of(topic, data, extensions, self._clock.now())
        pending = _Pending(new, asyncio.get_running_loop().create_future())
        self._pending.append(pending)
        self._work.set()
        stored = await asyncio.shield(pending.done)
        return f"{self._bounds.epoch}.{stored.seq}"

    async def _write_loop(self) -> None:
        # The only task that changes the tail: writes and catch-ups never interleave.
        while True:
            await self._work.wait()
            self._work.clear()
            batch, self._pending = self._pending, []
            if batch:
                await self._write(batch)
            if self._catch_up_asked:
                self._catch_up_asked = False
                await self._catch_up()
            if self._stopping and not self._pending:
                return

    def catch_up(self) -> None:
        """Ask the writer to read events other instances committed (cluster)."""
        self._catch_up_asked = True
        self._work.set()

    async def _catch_up(self) -> None:
        """Take every committed event after the head from the database, so the
        tail never skips what another instance wrote in between."""
        try:
            while True:
                found = await self._log.read(self._bounds.head, _DB_READ_CHUNK)
                self._accept(found)
                if len(found) < _DB_READ_CHUNK:
                    return
        except EventLogError as exc:
            self.last_error = str(exc)
            log.warning("catching up with the event log failed: %s", exc)

    async def _write(self, batch: list[_Pending]) -> None:
        try:
            stored = await self._log.append([p.event for p in batch])
        except Exception as exc:  # noqa: BLE001 - the writer must outlive any failure
            self.last_error = str(exc)
            log.warning("publishing %d events failed: %s", len(batch), exc)
            for p in batch:
                if not p.done.done():
                    p.done.set_exception(EventLogError(str(exc)))
            return
        self.last_error = ""
        self._batch.observe(len(stored))
        if self._shared and stored and stored[0].seq != self._bounds.head + 1:
            # Another instance wrote in between (or a sequence gap): read them all.
            await self._catch_up()
        else:
            self._accept(stored)
        for announce in self.on_commit:
            announce(self._bounds.head)
        for p, s in zip(batch, stored, strict=True):
            self._published.labels(s.topic).inc()
            if not p.done.done():
                p.done.set_result(s)

    def _accept(self, stored: list[StoredEvent]) -> None:
        """New events are in the log: extend the tail, wake who can see them."""
        stored = [e for e in stored if e.seq > self._bounds.head]
        if not stored:
            return
        self._tail.extend(stored)
        if len(self._tail) > 2 * self._tail_size():
            del self._tail[: len(self._tail) - self._tail_size()]
        head = max(self._bounds.head, stored[-1].seq)
        self._bounds = LogBounds(self._bounds.epoch, self._bounds.pruned_through, head)
        early: _Early = {}
        for waiter in self._all:
            self._wake(waiter, None, early)
        if self._by_extension:
            for ext in set().union(*(s.extensions for s in stored)):
                for waiter in self._by_extension.get(ext, ()):
                    self._wake(waiter, ext, early)
        if early and self.answer_early is not None:
            self._send_early(self.answer_early, early)

    def _wake(self, waiter: _Waiter, extension: str | None, early: _Early) -> None:
        """Wake a parked poll; with a reply, with its answer decided now."""
        if waiter.done():
            return
        if waiter.reply is None or self.answer_early is None:
            waiter.set_result(None)
            return
        key = (extension, waiter.after, waiter.limit)
        group = early.get(key)
        if group is None:
            group = early[key] = (self._answer_now(*key), [])
        answer, replies = group
        waiter.set_result(answer)
        if answer is not None:
            replies.append(waiter.reply)

    def _answer_now(
        self, extension: str | None, after: int, limit: int
    ) -> PollAnswer | None:
        """The answer a poll woken now would give, if the tail holds it; None
        leaves the poll to read it itself (from the database, or a reset)."""
        if check(Cursor(self._bounds.epoch, after), self._bounds) is not None:
            return None
        found = self._from_tail(after, extension, limit)
        if found is None or not found[0]:
            return None
        events, covered = found
        return PollAnswer(events, Cursor(self._bounds.epoch, covered))

    @staticmethod
    def _send_early(send: EarlyAnswer, early: _Early) -> None:
        for answer, replies in early.values():
            if answer is None:
                continue
            try:
                send(answer, replies)
            except Exception:  # the writer must outlive any failure
                # Replies not marked sent get their answer the normal way.
                log.exception("sending %d early answers failed", len(replies))

    def interrupt(self) -> None:
        """Wake every parked poll; those with nothing new answer empty."""
        self._interrupts += 1
        for waiter in self._all:
            wake(waiter)
        for waiters in self._by_extension.values():
            for waiter in waiters:
                wake(waiter)

    # --- retention ---------------------------------------------------------------

    async def prune(self) -> None:
        bounds = await self._log.prune(
            self._clock.now(),
            self._config.retention_seconds,
            self._config.retention_events,
        )
        pruned = max(self._bounds.pruned_through, bounds.pruned_through)
        head = max(self._bounds.head, bounds.head)
        self._bounds = LogBounds(self._bounds.epoch, pruned, head)

    # --- polling -----------------------------------------------------------------

    async def poll(
        self,
        cursor: Cursor | None,
        *,
        extension: str | None,
        wait: float,
        limit: int,
        reply: object = None,
    ) -> PollAnswer:
        """Events after `cursor` visible to `extension`; holds up to `wait` seconds.

        No cursor: start at the head (only new events). A cursor the log can no
        longer serve gets an immediate answer with `reset` and no events. A
        `reply` parks with the poll: an answer decided at the wake-up goes to
        `answer_early` with it, and is the one returned.
        """
        position = cursor or self._bounds.head_cursor
        reset = check(position, self._bounds)
        if reset is not None:
            return self._reset(reset)
        after = position.seq
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while True:
            before = after
            events, after = await self._read(after, extension, limit)
            reset = check(Cursor(self._bounds.epoch, before), self._bounds)
            if reset is not None:  # another instance pruned what we were reading
                return self._reset(reset)
            if events or self._draining:
                break
            if after < self._bounds.head:
                continue  # a panel scanning past others' events, or news arrived
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            interrupts = self._interrupts
            waiter = self._park(extension, after, limit, reply)
            tick = self._deadlines.add(waiter, deadline)
            try:
                decided = await waiter
            finally:
                self._deadlines.remove(waiter, tick)
                self._unpark(waiter, extension)
            if decided is not None:
                return decided
            if self._draining or interrupts != self._interrupts:
                break
        return PollAnswer(events, Cursor(self._bounds.epoch, after))

    def _reset(self, reset: Reset) -> PollAnswer:
        log.warning(
            "poll from %s answered with reset (%s), resume at %s",
            reset.lost_after,
            reset.reason.value,
            reset.resume,
        )
        self._resets.labels(reset.reason.value).inc()
        return PollAnswer([], reset.resume, reset)

    async def _read(
        self, after: int, extension: str | None, limit: int
    ) -> tuple[list[StoredEvent], int]:
        head = self._bounds.head
        if after >= head:
            return [], after
        in_tail = self._from_tail(after, extension, limit)
        if in_tail is not None:
            return in_tail
        chunk = max(limit, _DB_READ_CHUNK)
        found = await self._log.read(after, chunk)
        if self._shared:
            # Read after the rows: a prune that committed in between shows here.
            pruned = await self._log.pruned_through()
            if pruned > self._bounds.pruned_through:
                b = self._bounds
                self._bounds = LogBounds(b.epoch, pruned, b.head)
        events, covered = select(found, after, extension, limit)
        if len(found) < chunk and len(events) < limit:
            # The read saw every committed event up to at least `head`.
            covered = max(covered, head)
        return events, covered

    def _from_tail(
        self, after: int, extension: str | None, limit: int
    ) -> tuple[list[StoredEvent], int] | None:
        """`_read` from the in-memory tail; None when the tail starts too late."""
        tail = self._tail
        if not tail or after < tail[0].seq - 1:
            return None
        start = bisect.bisect_right(tail, after, key=lambda e: e.seq)
        if extension is None:  # a 1C base takes everything: just slice
            taken = tail[start : start + limit]
            return taken, taken[-1].seq if taken else after
        return select(tail[start:], after, extension, limit)

    def _park(
        self, extension: str | None, after: int, limit: int, reply: object
    ) -> _Waiter:
        waiter = _Waiter(after, limit, reply)
        if extension is None:
            self._all.add(waiter)
        else:
            self._by_extension.setdefault(extension, set()).add(waiter)
        if self._park_watchers:
            self._notify_parked()
        return waiter

    async def until_parked(self, count: int) -> None:
        """Return once at least `count` polls are parked (tests and benchmarks)."""
        if self.parked >= count:
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._park_watchers.append((count, future))
        try:
            await future
        finally:
            self._park_watchers = [w for w in self._park_watchers if w[1] is not future]

    def _notify_parked(self) -> None:
        parked = self.parked
        for count, future in self._park_watchers:
            if parked >= count and not future.done():
                future.set_result(None)

    def _unpark(self, waiter: _Waiter, extension: str | None) -> None:
        if extension is None:
            self._all.discard(waiter)
            return
        waiters = self._by_extension.get(extension)
        if waiters is not None:
            waiters.discard(waiter)
            if not waiters:
                del self._by_extension[extension]

    def _tail_size(self) -> int:
        return self._config.memory_tail
