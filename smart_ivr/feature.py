"""Wiring of the smart IVR into the application (called from `bridge.app`)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from aiohttp import web

from bridge.config import Config
from bridge.core import Core
from bridge.journal.routing_source import JournalLastTalks
from bridge.longpoll.contact_feature import CRMD_ROUTES
from bridge.onec.feature import STAFF
from jobs.routing_table.feature import ROUTING_JOB, ROUTING_TABLE
from pbx.asterisk.feature import AGI
from smart_ivr.agi_hook import HOOK, SmartIvrHook
from smart_ivr.availability import Availability
from smart_ivr.employees import ExtensionEmployees
from smart_ivr.http import ADMIN_TOKEN, IVR_SERVICE, PROMPT_DIR, add_routes
from smart_ivr.miko import MikoIvrText
from smart_ivr.prompts import CachedPrompts, PreWarm
from smart_ivr.router import IvrRouter
from smart_ivr.service import IvrService, IvrSettings
from tts_cache.http import TTS


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
    """Needs the TTS cache and the routing job set up before it (`FEATURES`)."""
    config = core.config
    cache = app[TTS]
    employees = ExtensionEmployees(app[STAFF].names if STAFF in app else None)
    service = IvrService(
        settings(config),
        app[ROUTING_TABLE],
        employees,
        availability(config),
        core.clock,
        core.metrics,
        contacts=core.contacts,
        states=core.pbx.extension_states if core.pbx is not None else None,
        tts=CachedPrompts(cache, config.ivr.deadline_seconds),
        last_talks=JournalLastTalks(core.db, core.clock),
    )
    app[ROUTING_JOB].prewarm = PreWarm(
        app[ROUTING_TABLE],
        cache,
        employees,
        config.ivr.phrases(),
        config.ivr.max_entries,
    )
    app[IVR_SERVICE] = service
    app[ADMIN_TOKEN] = core.admin_token
    app[PROMPT_DIR] = cache.directory
    core.router = IvrRouter(service)
    if CRMD_ROUTES in app and config.crmd.ivr_text == "local":
        app[CRMD_ROUTES].ivr_text = MikoIvrText(
            service,
            config.tts,
            cache.stats().voice,
            send_credentials=config.ivr.send_tts_credentials,
            deadline_seconds=config.ivr.deadline_seconds,
        )
    if AGI in app:
        app[AGI].register(HOOK, SmartIvrHook(service, config.ivr))
    add_routes(app, core.openapi)
