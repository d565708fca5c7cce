"""Cross-instance wake-up over Redis pub/sub (PRODUCT §10), when `cluster.redis_url`
is set.

The durable log is already shared through PostgreSQL; what Redis adds is speed:
after each commit an instance announces its new head, and the others catch up from
the database at once instead of at their next periodic catch-up (about a second).
A message carries nothing but a head and the sender, so a lost message costs only
that second; Redis being down degrades to the periodic catch-up, and the listener
reconnects by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from bridge.longpoll.hub import EventHub

log = logging.getLogger(__name__)
CHANNEL_PREFIX = "telebridge:events:"  # + the log epoch: one channel per shared log
_RECONNECT_SECONDS = 2.0


class RedisWakeups:
    def __init__(self, url: str, hub: EventHub) -> None:
        self._client = aioredis.Redis.from_url(url)
        self._hub = hub
        self.instance = uuid.uuid4().hex
        self.connected = False
        self.last_error = ""
        # Set on each change, for health and tests that await a state.
        self.subscribed = asyncio.Event()
        self.failed = asyncio.Event()
        self._announcing: set[asyncio.Task[None]] = set()

    @property
    def _channel(self) -> str:
        return CHANNEL_PREFIX + self._hub.bounds.epoch

    def announce(self, head: int) -> None:
        """Called by the hub after a local commit; never blocks publishing."""
        task = asyncio.create_task(self._publish(head))
        self._announcing.add(task)
        task.add_done_callback(self._announcing.discard)

    async def _publish(self, head: int) -> None:
        message = json.dumps({"from": self.instance, "head": head})
        try:
            await self._client.publish(self._channel, message)
        except RedisError as exc:
            self._down(exc)

    async def listen(self) -> None:
        """Catch up whenever another instance announces a head; until cancelled."""
        while True:
            try:
                async with self._client.pubsub() as pubsub:
                    await pubsub.subscribe(self._channel)
                    self.connected, self.last_error = True, ""
                    self.failed.clear()
                    self.subscribed.set()
                    self._hub.catch_up()  # whatever was missed while away
                    async for message in pubsub.listen():
                        self._on_message(message)
            except RedisError as exc:
                self._down(exc)
            await asyncio.sleep(_RECONNECT_SECONDS)

    def _on_message(self, message: dict[str, object]) -> None:
        if message.get("type") != "message":
            return
        try:
            body = json.loads(message["data"])  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return
        if (
            body.get("from") != self.instance
            and body.get("head", 0) > self._hub.bounds.head
        ):
            self._hub.catch_up()

    def _down(self, exc: Exception) -> None:
        if self.connected or not self.last_error:
            log.warning(
                "redis wake-ups unavailable (periodic catch-up continues): %s", exc
            )
        self.connected = False
        self.last_error = type(exc).__name__
        self.subscribed.clear()
        self.failed.set()

    async def close(self) -> None:
        for task in list(self._announcing):
            task.cancel()
        with contextlib.suppress(RedisError):
            await self._client.aclose()
