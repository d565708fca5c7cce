"""The composition root: the aiohttp application built from the core objects.

Features plug in through `FEATURES`: each is a `setup(app, core)` that adds its
routes, its background tasks (as `cleanup_ctx`, so the app lifecycle owns them) and
its health probes. Order matters where one feature uses what another set up.
"""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web
from sqlalchemy import text

from bridge.core import Core
from bridge.health import ComponentStatus, State, StatusProvider
from bridge.http.edge import setup_edge
from bridge.http.middleware import request_id_middleware, service_middleware
from bridge.longpoll import contact_feature, events_feature
from bridge.onec import feature as onec_feature
from bridge.onec.web_service_client import miko_crm_api
from jobs import feature as jobs
from jobs.cdr_loader import feature as cdr_loader
from jobs.routing_table import feature as routing_table
from pbx.asterisk import feature as asterisk
from pbx.vpbx import feature as vpbx
from smart_ivr import feature as smart_ivr
from tts_cache import feature as tts_feature

CORE = web.AppKey("core", Core)
Feature = Callable[[web.Application, Core], None]

FEATURES: tuple[Feature, ...] = (
    # First: sets core.contacts, which the features below read.
    onec_feature.setup,
    # The event hub (core.events, core.consumers, channel windows) before the PBX
    # adapters that publish into it; web-service mode pushes over SOAP.
    events_feature.make_setup(onec_client=miko_crm_api),
    contact_feature.setup,
    asterisk.setup,
    vpbx.setup,
    cdr_loader.setup,
    tts_feature.setup,
    routing_table.setup,
    smart_ivr.setup,
    # Last: the scheduler sees every job body the features above registered.
    jobs.setup,
)


def build_app(core: Core, features: tuple[Feature, ...] = FEATURES) -> web.Application:
    app = web.Application(
        middlewares=[service_middleware],
        client_max_size=core.config.http.max_body_bytes,
    )
    app[CORE] = core
    setup_edge(app, core.health, core.metrics, core.openapi)
    core.health.register("database", _database_status(core))
    core.crmd_app.middlewares.append(request_id_middleware)
    for setup in features:
        setup(app, core)
    return app


def _database_status(core: Core) -> StatusProvider:
    async def status() -> ComponentStatus:
        try:
            async with core.db.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception as exc:  # noqa: BLE001 - any failure means "down"
            return ComponentStatus(State.DOWN, type(exc).__name__)
        return ComponentStatus(State.OK, data={"dialect": core.db.dialect})

    return status
