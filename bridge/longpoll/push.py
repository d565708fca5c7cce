"""Web-service mode: push every call event to 1C's `miko_crm_api` (PRODUCT §3).

The pusher is one more consumer of the durable log, with its own cursor kept in
`instance_meta`, so it resumes where it stopped — after a restart, or after 1C was
down — and nothing published meanwhile is lost. `OneCUnavailable` is retried with
exponential backoff for as long as it takes; `OneCAuthError` stops the pusher and
shows in health (wrong credentials do not fix themselves); a protocol error (a SOAP
fault for one event) is retried a few times, then that event is skipped and logged.
"""

from __future__ import annotations

import asyncio
import enum
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bridge.longpoll.cursor import Cursor, MalformedCursor, StoredEvent
from bridge.longpoll.hub import CALL_TOPIC, EventHub
from bridge.onec.errors import (
    OneCAuthError,
    OneCError,
    OneCProtocolError,
    OneCUnavailable,
)
from bridge.onec.web_service import CALL_EVENT_SUBJECT, MikoCrmApi
from bridge.storage.database import Database
from bridge.storage.models import InstanceMeta
from jobs.leader import LeaderLock, while_leading

log = logging.getLogger(__name__)
PUSH_CURSOR_KEY = "events.push_cursor"
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Backoff:
    first_seconds: float = 1.0
    max_seconds: float = 60.0
    protocol_attempts: int = 5

    def next(self, delay: float) -> float:
        return min(delay, self.max_seconds)


class PushState(enum.StrEnum):
    STARTING = "starting"
    STANDBY = "standby"  # another instance holds the push lock
    PUSHING = "pushing"
    ONEC_UNAVAILABLE = "onec_unavailable"
    AUTH_FAILED = "auth_failed"


class _AuthStop(Exception):
    pass


class PushCursorStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def load(self) -> Cursor | None:
        async with self._db.session() as session:
            row = await session.get(InstanceMeta, PUSH_CURSOR_KEY)
        if row is None:
            return None
        try:
            return Cursor.parse(row.value)
        except MalformedCursor:
            return None

    async def save(self, cursor: Cursor) -> None:
        async with self._db.session() as session, session.begin():
            row = await session.get(InstanceMeta, PUSH_CURSOR_KEY)
            if row is None:
                session.add(InstanceMeta(key=PUSH_CURSOR_KEY, value=str(cursor)))
            else:
                row.value = str(cursor)


class WebServicePusher:
    def __init__(
        self,
        hub: EventHub,
        api: MikoCrmApi,
        store: PushCursorStore,
        *,
        backoff: Backoff | None = None,
        sleep: Sleep = asyncio.sleep,
        poll_wait: float = 25.0,
    ) -> None:
        self._hub = hub
        self._api = api
        self._store = store
        self._backoff = backoff or Backoff()
        self._sleep = sleep
        self._poll_wait = poll_wait
        self._users: dict[str, str] = {}
        self.state = PushState.STARTING
        self.detail = ""
        self.pushed = 0
        self.skipped = 0
        self.cursor: Cursor | None = None
        self.stopped = asyncio.Event()  # set when run() ends on its own

    async def lead(self, lock: LeaderLock, every: float) -> None:
        """Push only while this instance holds the push lock, until cancelled.

        With several instances on one database every one of them would otherwise
        push every event. The cursor is shared (`instance_meta`), so whoever takes
        the lock over resumes where the last pusher stopped; the event in flight at
        a failover may reach 1C twice (at-least-once; events carry ids).
        """
        self._set(PushState.STANDBY, "another instance pushes")
        await while_leading(
            lock,
            self.run,
            every=every,
            standby=lambda: self._set(PushState.STANDBY, "lost the push lock"),
        )

    async def run(self) -> None:
        """Push until cancelled, or until 1C rejects the credentials."""
        self.cursor = await self._store.load()
        if self.cursor is None:
            # First run ever: push from now on, and remember that across restarts.
            self.cursor = self._hub.bounds.head_cursor
            await self._store.save(self.cursor)
        try:
            await self._load_users()
            while True:
                await self._push_once()
        except _AuthStop:
            log.error("web-service push stopped: 1C rejected the credentials")
            self.stopped.set()

    async def aclose(self) -> None:
        await self._api.aclose()

    async def _push_once(self) -> None:
        answer = await self._hub.poll(
            self.cursor, extension=None, wait=self._poll_wait, limit=100
        )
        if answer.reset is not None:
            log.warning(
                "web-service push lost events after %s through %s (%s)",
                answer.reset.lost_after,
                answer.reset.lost_through,
                answer.reset.reason.value,
            )
        for event in answer.events:
            if event.topic == CALL_TOPIC:
                await self._deliver(event)
            self.cursor = Cursor(answer.cursor.epoch, event.seq)
            await self._store.save(self.cursor)
        if answer.cursor != self.cursor:
            self.cursor = answer.cursor
            await self._store.save(self.cursor)

    async def _deliver(self, event: StoredEvent) -> None:
        payload = self._payload(event)
        delay = self._backoff.first_seconds
        protocol_failures = 0
        while True:
            try:
                await self._api.call_event(CALL_EVENT_SUBJECT, payload)
            except OneCAuthError as exc:
                self._set(PushState.AUTH_FAILED, str(exc))
                raise _AuthStop from exc
            except OneCProtocolError as exc:
                protocol_failures += 1
                if protocol_failures >= self._backoff.protocol_attempts:
                    log.error("1C refused event %s, skipped: %s", event.seq, exc)
                    self.skipped += 1
                    return
                self._set(PushState.ONEC_UNAVAILABLE, str(exc))
            except OneCUnavailable as exc:
                self._set(PushState.ONEC_UNAVAILABLE, str(exc))
            else:
                self._set(PushState.PUSHING, "")
                self.pushed += 1
                return
            await self._sleep(delay)
            delay = self._backoff.next(delay * 2)

    def _payload(self, event: StoredEvent) -> str:
        body: dict[str, Any] = json.loads(event.json)
        data: dict[str, Any] = {"id": body["id"], **body["data"]}
        if not data.get("user_id"):
            for side in ("to", "from"):
                ext = (data.get(side) or {}).get("extension", "")
                if ext in self._users:
                    data["user_id"] = self._users[ext]
                    break
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))

    async def _load_users(self) -> None:
        """Extension → 1C user, once at start; events carry user_id when known."""
        try:
            users = await self._api.user_list()
        except OneCAuthError as exc:
            self._set(PushState.AUTH_FAILED, str(exc))
            raise _AuthStop from exc
        except OneCError as exc:
            log.warning("1C user list unavailable, events go without user_id: %s", exc)
            return
        self._users = {u.extension: u.user_id for u in users if u.extension}

    def _set(self, state: PushState, detail: str) -> None:
        if state is not self.state:
            log.info("web-service push: %s %s", state.value, detail)
        self.state = state
        self.detail = detail
