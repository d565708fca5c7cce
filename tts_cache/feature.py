"""Wiring the TTS cache into the service: `setup(app, core)` for `bridge.app`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from aiohttp import web

from bridge.core import Core
from bridge.health import ComponentStatus, State
from tts_cache.cache import TtsCache
from tts_cache.http import TTS, add_routes
from tts_cache.metrics import TtsMetrics
from tts_cache.providers import build_provider

log = logging.getLogger(__name__)


def build_cache(core: Core) -> TtsCache:
    config = core.config.tts
    return TtsCache(
        config,
        directory=config.cache_path(core.config.storage.data_dir),
        db=core.db,
        clock=core.clock,
        provider=build_provider(config, core.clock),
        metrics=TtsMetrics(core.metrics),
    )


def setup(app: web.Application, core: Core) -> None:
    cache = build_cache(core)
    app[TTS] = cache
    app.cleanup_ctx.append(_lifecycle(cache, core.config.tts.index_flush_seconds))
    add_routes(app, core)

    async def status() -> ComponentStatus:
        # Cached phrases still play while the provider fails: degraded, not down.
        stats = cache.stats()
        data = {"provider": stats.provider, "entries": stats.entries}
        if cache.last_error is not None:
            return ComponentStatus(State.DEGRADED, cache.last_error, data)
        return ComponentStatus(State.OK, data=data)

    core.health.register("tts", status)


def _lifecycle(
    cache: TtsCache, flush_seconds: float
) -> Callable[[web.Application], Any]:
    async def lifecycle(_app: web.Application) -> AsyncIterator[None]:
        await cache.start()
        flusher = asyncio.ensure_future(_flush_forever(cache, flush_seconds))
        try:
            yield
        finally:
            flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await flusher
            await cache.close()

    return lifecycle


async def _flush_forever(cache: TtsCache, seconds: float) -> None:
    while True:
        await asyncio.sleep(seconds)
        await cache.flush()
