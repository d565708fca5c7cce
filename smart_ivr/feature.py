"""Wiring of the smart IVR into the application (called from `bridge.app`)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from aiohttp import web

from bridge.config import Config
from bridge.core import Core
from jobs.routing_table.store import RoutingStore
from smart_ivr.availability import Availability
from smart_ivr.employees import ExtensionEmployees
from smart_ivr.http import ADMIN_TOKEN, IVR_SERVICE, add_routes
from smart_ivr.router import IvrRouter
from smart_ivr.service import IvrService, IvrSettings


def settings(config: Config) -> IvrSettings:
    ivr = config.ivr
    return IvrSettings(
        phrases=ivr.phrases(),
        destinations=ivr.destinations(),
        max_entries=ivr.max_entries,
        deadline_seconds=ivr.deadline_seconds,
        last_responsible_minutes=ivr.last_responsible_minutes,
    )


def availability(config: Config) -> Availability:
    return Availability(
        timezone=ZoneInfo(config.jobs.timezone),
        excluded=frozenset(config.routing.excluded),
        schedules={s.employee: s.schedule() for s in config.ivr.schedules},
    )


def setup(app: web.Application, core: Core) -> None:
    service = IvrService(
        settings(core.config),
        RoutingStore(core.db),
        ExtensionEmployees(),
        availability(core.config),
        core.clock,
        core.metrics,
        contacts=core.contacts,
        states=core.pbx.extension_states if core.pbx is not None else None,
    )
    app[IVR_SERVICE] = service
    app[ADMIN_TOKEN] = core.admin_token
    core.router = IvrRouter(service)
    add_routes(app, core.openapi)
