"""Wiring of the 1C data feature: the contact index as `core.contacts`, the
`onec` health component, and the contact refresh job bodies.

The journal feature (wired after this one) hands its `UnownedCalls` to the jobs
with `app[CONTACT_REFRESH].calls = ...`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime

from aiohttp import web

from bridge.core import Core
from bridge.health import ComponentStatus, State, StatusProvider
from bridge.onec.config import OneCConfig
from bridge.onec.contact_index import ContactIndex
from bridge.onec.errors import OneCError
from bridge.onec.index_build import BuildReport, IndexBuilder
from bridge.onec.odata import ODataClient
from bridge.onec.staff import Staff
from jobs.contact_refresh.refresh import (
    FULL_JOB,
    OPERATIVE_JOB,
    ContactRefresh,
    IndexRefresh,
)

log = logging.getLogger(__name__)

CONTACT_INDEX = web.AppKey("contact_index", ContactIndex)
CONTACT_REFRESH = web.AppKey("contact_refresh", ContactRefresh)
STAFF = web.AppKey("onec_staff", Staff)


@dataclass(slots=True)
class BuildState:
    """The last index build, for health: lookups work from old data when 1C fails."""

    last_attempt: datetime | None = None
    last_success: datetime | None = None
    last_error: str = ""


def setup(app: web.Application, core: Core) -> None:
    index = ContactIndex(core.db)
    state = BuildState()
    refresh = ContactRefresh(index, now=core.clock.now)
    staff = Staff()
    app[STAFF] = staff
    if core.config.onec.odata_url:
        refresh.refresh_index = _index_refresh(core, index, state, staff)
    if core.contacts is None:  # a directory given before the app was built wins
        core.contacts = index
    app[CONTACT_INDEX] = index
    app[CONTACT_REFRESH] = refresh
    core.job_bodies[FULL_JOB] = refresh.body(FULL_JOB)
    core.job_bodies[OPERATIVE_JOB] = refresh.body(OPERATIVE_JOB)
    core.health.register("onec", _status(core.config.onec, index, state))
    app.cleanup_ctx.append(_lifecycle(core, index, refresh))


def odata_client(config: OneCConfig) -> ODataClient:
    return ODataClient(
        config.odata_url,
        username=config.username,
        password=config.password.get_secret_value(),
        timeout=config.timeout_seconds,
        verify_tls=config.verify_tls,
    )


def _index_refresh(
    core: Core, index: ContactIndex, state: BuildState, staff: Staff
) -> IndexRefresh:
    one_at_a_time = asyncio.Lock()  # the first build and a job run may overlap
    config = core.config.onec

    async def refresh(now: datetime) -> BuildReport:
        state.last_attempt = now
        try:
            async with one_at_a_time, odata_client(config) as client:
                report = await IndexBuilder(core.db, client, config).build(now)
                await staff.refresh(client, config)
        except OneCError as exc:
            state.last_error = str(exc)
            raise
        if report.changed or report.removed or index.loaded_at is None:
            await index.load(now)
        state.last_success, state.last_error = now, ""
        return report

    return refresh


def _lifecycle(
    core: Core, index: ContactIndex, refresh: ContactRefresh
) -> Callable[[web.Application], AsyncIterator[None]]:
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        await index.load(core.clock.now())
        first: asyncio.Task[None] | None = None
        if refresh.refresh_index is not None and index.owners == 0:
            first = asyncio.create_task(_first_build(refresh, core.clock.now()))
        yield
        if first is not None:
            first.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await first

    return ctx


async def _first_build(refresh: ContactRefresh, now: datetime) -> None:
    """A fresh install should not wait for the schedule to know its callers."""
    assert refresh.refresh_index is not None  # noqa: S101 - checked by the caller
    try:
        await refresh.refresh_index(now)
    except OneCError as exc:
        log.warning("first contact index build failed, the jobs will retry: %s", exc)


def _status(
    config: OneCConfig, index: ContactIndex, state: BuildState
) -> StatusProvider:
    async def status() -> ComponentStatus:
        if not (config.odata_url or config.soap_url):
            return ComponentStatus(State.NOT_CONFIGURED)
        data = {
            "indexed_numbers": index.size,
            "indexed_owners": index.owners,
            "last_build": state.last_success.isoformat()
            if state.last_success
            else None,
        }
        if state.last_error:
            return ComponentStatus(
                State.DEGRADED,
                f"answering from the last index: {state.last_error}",
                data,
            )
        return ComponentStatus(State.OK, data=data)

    return status
