"""Wiring of the contact-data channel: `setup(app, core)` for `bridge.app.FEATURES`."""

from __future__ import annotations

from aiohttp import web

from bridge.core import Core
from bridge.longpoll import broker_http, crmd
from bridge.longpoll.broker_http import ContactHttp
from bridge.longpoll.channel import HEALTH_COMPONENT, ChannelGate, ContactChannel
from bridge.longpoll.crmd import CrmdRoutes
from bridge.longpoll.events_api import WINDOWS
from bridge.longpoll.panel_auth import PinGuard

CONTACT_CHANNEL = web.AppKey("contact_channel", ContactChannel)


CRMD_ROUTES = web.AppKey("crmd_routes", crmd.CrmdRoutes)


def setup(app: web.Application, core: Core, gate: ChannelGate | None = None) -> None:
    """The contact channel, its HTTP and crmd routes, health and metrics.

    Runs after the feature that sets `core.consumers` (panel tokens, consumer
    auth) and the contact index (`core.contacts`); both are read when a request
    comes, so a later feature may still set them. `gate` is the channel-window
    policy; None keeps the channel always open.
    """
    config = core.config
    # The events feature's windows also govern this channel ("contacts").
    gate = gate or app.get(WINDOWS)
    channel = ContactChannel(config.http.contacts, core.clock, core.metrics, gate)
    app[CONTACT_CHANNEL] = channel
    core.contact_channel = channel
    guard = PinGuard(
        core.clock,
        max_failures=config.auth.panel.max_failures,
        window_seconds=config.auth.panel.window_seconds,
    )
    http = ContactHttp(channel, lambda: core.consumers, guard, core.metrics)
    broker_http.routes(app, http)
    broker_http.declare(core.openapi)
    crmd_routes = CrmdRoutes(
        channel,
        lambda: core.contacts,
        deadline_seconds=config.crmd.deadline_seconds,
        relay_caller_id=config.crmd.relay_caller_id,
    )
    crmd.routes(core.crmd_app, crmd_routes)
    app[CRMD_ROUTES] = crmd_routes
    core.health.register(HEALTH_COMPONENT, channel.status)

    async def wake_polls(_app: web.Application) -> None:
        # Parked polls would otherwise hold shutdown for http.shutdown_timeout.
        channel.broker.wake_all()

    app.on_shutdown.append(wake_polls)
