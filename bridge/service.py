"""Running the service: migrate, listen, and stop cleanly on SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiohttp import web

from bridge import __version__
from bridge.app import build_app
from bridge.config import Config
from bridge.core import Core, open_core
from bridge.logs import SecretRedactor
from bridge.storage import migrate

log = logging.getLogger(__name__)
_LISTEN_BACKLOG = 4096
_GC_YOUNG_THRESHOLD = 20_000


@dataclass(frozen=True, slots=True)
class Listening:
    """Where the running service actually listens (ports may be ephemeral)."""

    http: tuple[str, int]
    crmd: tuple[str, int] | None


async def serve(config: Config, redactor: SecretRedactor) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with running(config, redactor=redactor) as (_core, where):
        tune_garbage_collector()
        log.info(
            "telebridge %s listening on http://%s:%d (crmd: %s)",
            __version__,
            *where.http,
            "off" if where.crmd is None else f"{where.crmd[0]}:{where.crmd[1]}",
        )
        await stop.wait()
        log.info("stopping")
    log.info("stopped")


@asynccontextmanager
async def running(
    config: Config, *, redactor: SecretRedactor | None = None
) -> AsyncIterator[tuple[Core, Listening]]:
    """The whole service, started; leaving the block shuts it down in order."""
    async with open_core(config, redactor=redactor) as core:
        if config.storage.migrate_on_start:
            await migrate.upgrade(core.db)
        app = build_app(core)
        timeout = config.http.shutdown_timeout_seconds
        main = web.AppRunner(app, handle_signals=False, shutdown_timeout=timeout)
        crmd = web.AppRunner(core.crmd_app, handle_signals=False, shutdown_timeout=1)
        try:
            http_at = await _start(main, config.http.host, config.http.port)
            crmd_at = None
            if config.crmd.enabled:
                crmd_at = await _start(crmd, config.crmd.host, config.crmd.port)
            yield core, Listening(http=http_at, crmd=crmd_at)
        finally:
            await crmd.cleanup()
            await main.cleanup()


def tune_garbage_collector() -> None:
    """Make the cyclic collector cheap for a process holding many parked polls.

    Everything built at start (modules, routes, config, the events tail) is moved
    out of the collector's sight: it lives as long as the process. And young
    objects are collected every 20,000 allocations instead of 700: with 10,000
    parked polls the collector's passes over the young survivors showed up as
    the largest single cost of a broadcast (issue 3, BENCHMARKS.md). Reference
    counting still frees everything that is not in a cycle at once.
    """
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(_GC_YOUNG_THRESHOLD, older, oldest)


async def _start(runner: web.AppRunner, host: str, port: int) -> tuple[str, int]:
    await runner.setup()
    # 1,000 1C clients reconnect at once after a restart; with the default 128 a
    # full accept queue drops SYNs and each costs a 1 s retransmit.
    site = web.TCPSite(runner, host, port, backlog=_LISTEN_BACKLOG)
    await site.start()
    server = site._server
    assert isinstance(server, asyncio.Server)  # noqa: S101 - TCPSite always makes one
    sock_host, sock_port = server.sockets[0].getsockname()[:2]
    return str(sock_host), int(sock_port)
