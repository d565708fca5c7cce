"""Wiring the Asterisk adapter and the FastAGI server into the app."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from aiohttp import web

from bridge.core import Core
from pbx.asterisk.adapter import AsteriskAdapter
from pbx.asterisk.agi import AgiServer
from pbx.http import setup_routes

ASTERISK = web.AppKey("asterisk", AsteriskAdapter)
AGI = web.AppKey("agi", AgiServer)


def setup(app: web.Application, core: Core) -> None:
    config = core.config
    if config.agi.enabled:
        app[AGI] = AgiServer(config.agi, core)
        app.cleanup_ctx.append(_agi_lifecycle)
    if not config.asterisk.host:
        return
    adapter = AsteriskAdapter(
        config.asterisk, core.clock, core.metrics, lambda: core.events
    )
    app[ASTERISK] = adapter
    core.pbx = adapter
    core.health.register("pbx", adapter.status)
    setup_routes(app, core, adapter)
    app.cleanup_ctx.append(_adapter_lifecycle)


async def _adapter_lifecycle(app: web.Application) -> AsyncIterator[None]:
    adapter = app[ASTERISK]
    task = asyncio.create_task(adapter.run(), name="asterisk-ami")
    yield
    await adapter.stop()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _agi_lifecycle(app: web.Application) -> AsyncIterator[None]:
    server = app[AGI]
    await server.start()
    yield
    await server.close()
