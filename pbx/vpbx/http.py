"""The webhooks the Rostelecom PBX calls: `<external address>/call_events`,
`/get_number_info` and `/history_file_completed` (manual §10.6.3), mounted under
`/vpbx`, so the portal's «Адрес внешней системы» is `https://<bridge>/vpbx`.

Every request is checked before its body is parsed: the signature covers the
exact received bytes. Refusals are 401 (unsigned) or 403 (wrong id, key or
address) with a stable id, and counted.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar
from zoneinfo import ZoneInfo

from aiohttp import web
from pydantic import BaseModel

from bridge.call_events import EventSink
from bridge.clock import Clock
from bridge.errors import (
    ApiError,
    InvalidField,
    InvalidJson,
    PayloadTooLarge,
    ServiceUnavailable,
)
from bridge.http.bodies import validate
from pbx.vpbx.guard import Credentials, Rejection, WebhookGuard
from pbx.vpbx.history_files import HistoryFiles
from pbx.vpbx.mapping import to_call_event
from pbx.vpbx.metrics import VpbxMetrics
from pbx.vpbx.models import (
    Acknowledgement,
    CallEventPayload,
    HistoryFileCompleted,
    NumberInfoRequest,
)
from pbx.vpbx.number_info import NumberInfo
from pbx.vpbx.replays import RecentBodies

log = logging.getLogger(__name__)
M = TypeVar("M", bound=BaseModel)
PREFIX = "/vpbx"
CLIENT_ID_HEADER = "X-Client-ID"
SIGN_HEADER = "X-Client-Sign"
_REFUSALS = {
    Rejection.NOT_CONFIGURED: "the Rostelecom integration is not configured",
    Rejection.ADDRESS_NOT_ALLOWED: "this address may not call the webhooks",
    Rejection.UNSIGNED: f"{CLIENT_ID_HEADER} and {SIGN_HEADER} are required",
    Rejection.UNKNOWN_CLIENT: f"unknown {CLIENT_ID_HEADER}",
    Rejection.BAD_SIGNATURE: f"{SIGN_HEADER} does not match the body",
}


class EventSource(Protocol):
    """Where the sink is looked up per request (`Core`): it may be set up later."""

    @property
    def events(self) -> EventSink | None: ...


class WebhookUnsigned(ApiError):
    status = 401


class WebhookForbidden(ApiError):
    status = 403


@dataclass(slots=True)
class Webhooks:
    guard: WebhookGuard
    metrics: VpbxMetrics
    number_info: NumberInfo
    history_files: HistoryFiles
    zone: ZoneInfo
    clock: Clock
    sinks: EventSource
    recent: RecentBodies = field(default_factory=RecentBodies)

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post(f"{PREFIX}/call_events", self.call_events),
            web.post(f"{PREFIX}/get_number_info", self.get_number_info),
            web.post(f"{PREFIX}/history_file_completed", self.history_file_completed),
        ]

    async def call_events(self, request: web.Request) -> web.Response:
        raw = await self._authentic_body(request, "call_events")
        payload = parse(raw, CallEventPayload)
        if raw in self.recent:
            return self._ignore(payload, "duplicate")
        mapped = to_call_event(payload, zone=self.zone, received=self.clock.now())
        if mapped.event is None:
            return self._ignore(payload, mapped.ignored or "unknown")
        events = self.sinks.events
        if events is None:
            raise ServiceUnavailable(
                "no event stream is running", error_id="events-unavailable"
            )
        try:
            await events.publish_call(mapped.event)
        except Exception:
            log.exception("publishing call event %s failed", mapped.event.call_id)
            raise ServiceUnavailable(
                "the event stream refused the event", error_id="events-unavailable"
            ) from None
        # Only once stored: a retry after a failure must still go through.
        self.recent.add(raw)
        return _ack()

    def _ignore(self, payload: CallEventPayload, reason: str) -> web.Response:
        log.info(
            "call_events ignored (%s): session %s state %r type %r",
            reason,
            payload.session_id,
            payload.state,
            payload.type,
        )
        self.metrics.ignored.labels(reason).inc()
        return _ack()

    async def get_number_info(self, request: web.Request) -> web.Response:
        payload = await self._read(request, "get_number_info", NumberInfoRequest)
        reply = await self.number_info.answer(payload)
        return web.json_response(reply.as_json())

    async def history_file_completed(self, request: web.Request) -> web.Response:
        method = "history_file_completed"
        notice = await self._read(request, method, HistoryFileCompleted)
        if not notice.export_id:
            raise InvalidField("order_id", "the export's id is missing")
        log.info("history export %s is ready", notice.export_id)
        await self.history_files.deliver(notice)
        return _ack()

    async def _read(self, request: web.Request, method: str, model: type[M]) -> M:
        return parse(await self._authentic_body(request, method), model)

    async def _authentic_body(self, request: web.Request, method: str) -> bytes:
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge as exc:
            raise PayloadTooLarge(
                exc.text or "request body is over the limit"
            ) from None
        remote = self.guard.source(
            request.remote, request.headers.get("X-Forwarded-For")
        )
        offered = Credentials(
            remote=remote,
            client_id=request.headers.get(CLIENT_ID_HEADER),
            signature=request.headers.get(SIGN_HEADER),
            body=raw,
        )
        verdict = self.guard.check(offered)
        if verdict.rejection is not None:
            self._refuse(method, verdict.rejection, remote)
        key = verdict.key.value if verdict.key else "none"
        self.metrics.webhooks.labels(method, key).inc()
        return raw

    def _refuse(self, method: str, rejection: Rejection, remote: str | None) -> None:
        self.metrics.rejected.labels(method, rejection.value).inc()
        log.warning("refused %s from %s: %s", method, remote, rejection.value)
        if rejection.status == 401:
            raise WebhookUnsigned(
                _REFUSALS[rejection],
                error_id=rejection.value,
                # A 401 names its scheme: here, the Integration API's signature.
                headers={"WWW-Authenticate": f'{SIGN_HEADER} realm="vpbx"'},
            )
        raise WebhookForbidden(_REFUSALS[rejection], error_id=rejection.value)


def parse(raw: bytes, model: type[M]) -> M:
    """The body as `model`, parsed only after its signature was checked."""
    try:
        data: Any = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidJson(f"request body is not valid JSON: {exc}") from None
    return validate(model, data)


def _ack() -> web.Response:
    return web.json_response(Acknowledgement().as_json())
