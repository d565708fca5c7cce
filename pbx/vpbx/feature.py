"""Wiring of the Rostelecom cloud PBX integration into the app (`bridge.app.FEATURES`).

Other features reach the outbound client and the export notices through
`app[VPBX]` (the call journal orders exports and waits on `history_files`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from bridge.core import Core
from bridge.health import ComponentStatus, State, StatusProvider
from pbx.vpbx.client import VpbxClient
from pbx.vpbx.guard import WebhookGuard
from pbx.vpbx.history_files import HistoryFiles
from pbx.vpbx.http import PREFIX, Webhooks
from pbx.vpbx.metrics import VpbxMetrics
from pbx.vpbx.models import (
    Acknowledgement,
    CallEventPayload,
    HistoryFileCompleted,
    NumberInfoReply,
    NumberInfoRequest,
)
from pbx.vpbx.number_info import NumberInfo
from pbx.vpbx.rotation import previous_key_deadline


@dataclass(frozen=True, slots=True)
class Vpbx:
    client: VpbxClient
    history_files: HistoryFiles
    webhooks: Webhooks


VPBX = web.AppKey("vpbx", Vpbx)


def setup(app: web.Application, core: Core) -> None:
    config = core.config.vpbx
    metrics = VpbxMetrics.on(core.metrics)
    history_files = HistoryFiles()
    previous_until = previous_key_deadline(
        core.config.storage.data_dir,
        config.previous_sign_key.get_secret_value(),
        config.rotation_grace_seconds,
        core.clock.now(),
    )
    webhooks = Webhooks(
        guard=WebhookGuard(config, core.clock, previous_until),
        metrics=metrics,
        number_info=NumberInfo(
            core, config.number_info_budget_seconds, core.clock, metrics
        ),
        history_files=history_files,
        zone=ZoneInfo(config.timezone),
        clock=core.clock,
        sinks=core,
    )
    vpbx = Vpbx(VpbxClient(config, core.clock, metrics), history_files, webhooks)
    app[VPBX] = vpbx
    app.router.add_routes(webhooks.routes())
    app.cleanup_ctx.append(_client_session)
    core.health.register("vpbx", _status(core, vpbx))
    _declare(core)


async def _client_session(app: web.Application) -> AsyncIterator[None]:
    async with app[VPBX].client:
        yield


def _status(core: Core, vpbx: Vpbx) -> StatusProvider:
    async def status() -> ComponentStatus:
        if not core.config.vpbx.client_id:
            return ComponentStatus(State.NOT_CONFIGURED)
        data = {"quota_remaining": vpbx.client.quotas.remaining()}
        return ComponentStatus(State.OK, data=data)

    return status


def _declare(core: Core) -> None:
    webhook = "Rostelecom webhook, signed with X-Client-ID / X-Client-Sign"
    # call_events answers 503 while events cannot be stored, so the PBX retries.
    for name, body, reply, unavailable in (
        ("call_events", CallEventPayload, Acknowledgement, True),
        ("get_number_info", NumberInfoRequest, NumberInfoReply, False),
        ("history_file_completed", HistoryFileCompleted, Acknowledgement, False),
    ):
        responses: dict[int, Any] = {200: reply, 400: None, 401: None, 403: None}
        if unavailable:
            responses[503] = None
        core.openapi.add(
            "POST",
            f"{PREFIX}/{name}",
            summary=f"{webhook}: {name}",
            body=body,
            responses=responses,
            secured=False,
        )
