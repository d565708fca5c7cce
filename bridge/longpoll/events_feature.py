"""Wiring of the events channel into the service: `setup(app, core)` for FEATURES.

Provides `core.events` (the hub, an `EventSink`) and `core.consumers` (the
registry), the `WINDOWS` app key (`ChannelWindows`, where the scheduler sets the
exchange-job policies), the background tasks (retention, acknowledgement flush, the
web-service pusher) and the health component "channels".

The web-service mode needs a `MikoCrmApi`: `make_setup(onec_client=factory)` takes a
factory from the config (the zeep client in `bridge.onec.soap`). `setup` has none:
with `http.events.push_to_onec` on, health says the pusher is not wired.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING

from aiohttp import web

from bridge.config import Config
from bridge.core import Core
from bridge.health import ComponentStatus, State
from bridge.longpoll import consumers_api, events_api
from bridge.longpoll.consumers import ConsumerRegistry
from bridge.longpoll.event_log import EventLog
from bridge.longpoll.events_api import CORE_KEY, HUB, REGISTRY, WINDOWS
from bridge.longpoll.hub import EventHub
from bridge.longpoll.push import PushCursorStore, PushState, WebServicePusher
from bridge.longpoll.windows import CHANNELS, EVENTS, ChannelWindows
from bridge.onec.web_service import MikoCrmApi
from jobs.leader import leader_lock

if TYPE_CHECKING:
    from bridge.longpoll.cluster import RedisWakeups

log = logging.getLogger(__name__)
ClientFactory = Callable[[Config], MikoCrmApi]
Feature = Callable[[web.Application, Core], None]
PUSHER = web.AppKey("web_service_pusher", WebServicePusher)
_FLUSH_SECONDS = 5.0
# How soon a standby instance takes over pushing to 1C when the pusher's dies.
_LEAD_SECONDS = 5.0
PUSH_ROLE = "web-service-push"
_CATCH_UP_SECONDS = 1.0


def make_setup(onec_client: ClientFactory | None = None) -> Feature:
    def setup(app: web.Application, core: Core) -> None:
        hub = EventHub(
            EventLog(core.db),
            core.config.http.events,
            core.clock,
            core.metrics,
            shared=not core.db.is_sqlite,  # instances can share only PostgreSQL
        )
        registry = ConsumerRegistry(
            core.db, core.clock, start=lambda: str(hub.bounds.head_cursor)
        )
        hub.answer_early = events_api.send_early
        windows = ChannelWindows(core.clock)
        windows.on_close(lambda channel: hub.interrupt() if channel == EVENTS else None)
        app[HUB], app[REGISTRY], app[WINDOWS], app[CORE_KEY] = (
            hub,
            registry,
            windows,
            core,
        )
        # Set unless given before the app was built (tests inject recorders).
        if core.events is None:
            core.events = hub
        if core.consumers is None:
            core.consumers = registry
        events_api.add_routes(app, core)
        consumers_api.add_routes(app, core)
        pusher = _pusher(core, hub, onec_client)
        if pusher is not None:
            app[PUSHER] = pusher
        wakeups = _wakeups(core, hub)
        app.cleanup_ctx.append(_lifecycle(core, hub, registry, pusher, wakeups))
        app.on_shutdown.append(_close_polls(hub))
        core.health.register("channels", _status(core, hub, windows, pusher, wakeups))

    return setup


setup = make_setup()


def _pusher(
    core: Core, hub: EventHub, onec_client: ClientFactory | None
) -> WebServicePusher | None:
    if not core.config.http.events.push_to_onec or onec_client is None:
        return None
    return WebServicePusher(hub, onec_client(core.config), PushCursorStore(core.db))


def _lifecycle(
    core: Core,
    hub: EventHub,
    registry: ConsumerRegistry,
    pusher: WebServicePusher | None,
    wakeups: RedisWakeups | None,
) -> Callable[[web.Application], contextlib.AbstractAsyncContextManager[None]]:
    interval = core.config.http.events.prune_interval_seconds

    @contextlib.asynccontextmanager
    async def lifecycle(_app: web.Application) -> AsyncIterator[None]:
        await hub.start()
        await registry.load()
        tasks = [
            asyncio.create_task(_every(interval, hub.prune), name="event-prune"),
            asyncio.create_task(_every(_FLUSH_SECONDS, _sync(registry)), name="acks"),
        ]
        if pusher is not None:
            lock = leader_lock(core.db, core.config.storage.data_dir, PUSH_ROLE)
            pushing = pusher.lead(lock, every=_LEAD_SECONDS)
            tasks.append(asyncio.create_task(pushing, name="web-service-push"))
        if not core.db.is_sqlite:
            tasks.append(asyncio.create_task(_catch_up(hub), name="event-catch-up"))
        if wakeups is not None:
            tasks.append(asyncio.create_task(wakeups.listen(), name="redis-wakeups"))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if wakeups is not None:
                await wakeups.close()
            if pusher is not None:
                await pusher.aclose()
            with contextlib.suppress(Exception):
                await registry.flush()
            await hub.stop()

    return lifecycle


async def _every(seconds: float, action: Callable[[], Awaitable[None]]) -> None:
    while True:
        await asyncio.sleep(seconds)
        try:
            await action()
        except Exception as exc:  # noqa: BLE001 - a housekeeping round is retried
            log.warning("%s failed: %s", getattr(action, "__name__", action), exc)


def _wakeups(core: Core, hub: EventHub) -> RedisWakeups | None:
    url = core.config.cluster.redis_url
    if not url:
        return None
    from bridge.longpoll.cluster import RedisWakeups  # optional dependency

    wakeups = RedisWakeups(url, hub)
    hub.on_commit.append(wakeups.announce)
    core.redactor.add([url])  # the URL may carry a password
    return wakeups


async def _catch_up(hub: EventHub) -> None:
    """On PostgreSQL other instances may publish too: pick their events up.

    Without a cross-instance wake-up (Redis, not built yet) this bounds the
    delay of an event published on another instance to about a second.
    """
    while True:
        await asyncio.sleep(_CATCH_UP_SECONDS)
        hub.catch_up()


def _close_polls(hub: EventHub) -> Callable[[web.Application], Awaitable[None]]:
    async def close(_app: web.Application) -> None:
        hub.close_polls()

    return close


def _sync(registry: ConsumerRegistry) -> Callable[[], Awaitable[None]]:
    async def sync() -> None:
        await registry.flush()
        await registry.refresh()

    return sync


def _status(
    core: Core,
    hub: EventHub,
    windows: ChannelWindows,
    pusher: WebServicePusher | None,
    wakeups: RedisWakeups | None,
) -> Callable[[], Awaitable[ComponentStatus]]:
    push_on = core.config.http.events.push_to_onec

    async def status() -> ComponentStatus:
        bounds = hub.bounds
        data: dict[str, object] = {
            "epoch": bounds.epoch,
            "head": bounds.head,
            "pruned_through": bounds.pruned_through,
            "parked_polls": hub.parked,
            "windows": {
                name: {"open": s.open, "reason": s.reason}
                for name in CHANNELS
                for s in [windows.state(name)]
            },
        }
        if wakeups is not None:
            data["redis_wakeups"] = {
                "connected": wakeups.connected,
                "error": wakeups.last_error,
            }
        error = await hub.recheck()
        if error:
            return ComponentStatus(State.DOWN, "event log: " + error, data)
        if not push_on:
            return ComponentStatus(State.OK, "", data)
        if pusher is None:
            detail = "http.events.push_to_onec is on but no 1C SOAP client is wired"
            return ComponentStatus(State.DOWN, detail, data)
        data["push"] = {
            "state": pusher.state.value,
            "pushed": pusher.pushed,
            "skipped": pusher.skipped,
            "cursor": str(pusher.cursor) if pusher.cursor else "",
        }
        if pusher.state is PushState.AUTH_FAILED:
            return ComponentStatus(State.DOWN, "1C rejected the credentials", data)
        if pusher.state is PushState.ONEC_UNAVAILABLE:
            return ComponentStatus(State.DEGRADED, pusher.detail, data)
        return ComponentStatus(State.OK, "", data)

    return status
