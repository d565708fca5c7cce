"""HTTP edge of the events channel: the long-poll, publishing, channel windows.

GET  /api/v1/events?cursor=&wait=&limit=     a consumer's long-poll (its token)
POST /api/v1/events                          publish (admin token)
GET  /api/v1/channels                        window states (admin)
POST /api/v1/channels/{channel}/close        close with a reason (admin)
POST /api/v1/channels/{channel}/open         open again (admin)
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bridge.call_events import CallEvent
from bridge.core import Core
from bridge.errors import InvalidField, NotFound, ServiceUnavailable, Unauthorized
from bridge.http import direct_reply
from bridge.http.auth import bearer_token, check_admin
from bridge.http.bodies import invalid_field, query_int, read_model
from bridge.http.openapi import query_param
from bridge.longpoll.consumer_auth import Consumer, ConsumerKind
from bridge.longpoll.consumers import ConsumerRegistry
from bridge.longpoll.cursor import Cursor, MalformedCursor, render_batch
from bridge.longpoll.event_log import EventLogError
from bridge.longpoll.hub import CALL_TOPIC, EventHub, PollAnswer
from bridge.longpoll.windows import EVENTS, ChannelWindows, UnknownChannel

HUB = web.AppKey("event_hub", EventHub)
REGISTRY = web.AppKey("consumer_registry", ConsumerRegistry)
# The channel windows; the scheduler sets its policies here (see windows.py).
WINDOWS = web.AppKey("channel_windows", ChannelWindows)
CORE_KEY = web.AppKey("events_core", Core)
_TOPIC = re.compile(r"^[a-z][a-z0-9_.-]{0,63}$")


class PublishRequest(BaseModel):
    """An event from an external publisher. Topic "call": `data` is a CallEvent."""

    model_config = ConfigDict(extra="forbid")

    topic: str = Field(min_length=1, max_length=64, pattern=_TOPIC.pattern)
    data: dict[str, Any]
    extensions: list[str] = Field(default_factory=list, max_length=32)


class Published(BaseModel):
    id: str


class EventEnvelope(BaseModel):
    id: str = Field(description="<epoch>.<seq>: dedup key, and a cursor after it")
    topic: str
    time: str
    data: dict[str, Any]


class ResetInfo(BaseModel):
    reason: str = Field(description="expired | epoch | ahead")
    lost_after: str | None
    lost_through: str | None
    resume: str


class EventBatch(BaseModel):
    cursor: str
    events: list[EventEnvelope]
    reset: ResetInfo | None = None


class CloseRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(default="", max_length=500)


class ChannelState(BaseModel):
    channel: str
    open: bool
    reason: str
    manual: bool


class ChannelList(BaseModel):
    channels: list[ChannelState]


async def poll_events(request: web.Request) -> web.StreamResponse:
    hub, registry = request.app[HUB], request.app[REGISTRY]
    config = request.app[CORE_KEY].config.http.events
    consumer = await _consumer(request, registry)
    _check_open(request.app[WINDOWS], config.closed_retry_after_seconds)
    sent = request.query.get("cursor", "")
    cursor = _cursor(sent or registry.cursor_of(consumer), given=bool(sent))
    wait = query_int(
        request, "wait", config.default_wait_seconds, lo=0, hi=config.max_wait_seconds
    )
    limit = query_int(request, "limit", config.max_batch, lo=1, hi=config.max_batch)
    if sent:
        registry.polled(consumer, sent)
    extension = consumer.extension if consumer.kind is ConsumerKind.PANEL else None
    reply = direct_reply.DirectReply.for_request(request)
    try:
        answer = await hub.poll(
            cursor, extension=extension, wait=wait, limit=limit, reply=reply
        )
    except EventLogError as exc:
        raise ServiceUnavailable(
            "the event log is unavailable", error_id="event-log-unavailable"
        ) from exc
    if reply is not None and reply.sent:
        return reply.response()  # the hub's wake-up sent it (send_early)
    if not answer.events and answer.reset is None:
        # Woken because the channel closed: say so rather than answer empty.
        _check_open(request.app[WINDOWS], config.closed_retry_after_seconds)
    body = render_batch(answer.events, answer.cursor, answer.reset)
    return web.Response(body=body, content_type="application/json")


def send_early(answer: PollAnswer, replies: list[direct_reply.DirectReply]) -> None:
    """The hub's `answer_early`: one body for polls woken with the same answer,
    the bytes `poll_events` would answer with, on their connections at once."""
    body = render_batch(answer.events, answer.cursor, answer.reset)
    direct_reply.send_json(body, replies)


async def publish_event(request: web.Request) -> web.Response:
    check_admin(request, request.app[CORE_KEY].admin_token)
    req = await read_model(request, PublishRequest)
    hub = request.app[HUB]
    try:
        if req.topic == CALL_TOPIC:
            event_id = await hub.publish_call(_call_event(req))
        else:
            exts = frozenset(_extensions(req.extensions))
            event_id = await hub.publish(req.topic, req.data, extensions=exts)
    except EventLogError as exc:
        raise ServiceUnavailable(
            "the event log is unavailable", error_id="event-log-unavailable"
        ) from exc
    return web.json_response(Published(id=event_id).model_dump(), status=201)


async def list_channels(request: web.Request) -> web.Response:
    check_admin(request, request.app[CORE_KEY].admin_token)
    windows = request.app[WINDOWS]
    states = [_state(windows, name) for name in ("events", "contacts")]
    return web.json_response(ChannelList(channels=states).model_dump())


async def close_channel(request: web.Request) -> web.Response:
    check_admin(request, request.app[CORE_KEY].admin_token)
    req = await read_model(request, CloseRequest)
    windows, name = request.app[WINDOWS], request.match_info["channel"]
    try:
        windows.close(name, req.reason)
    except UnknownChannel:
        raise NotFound(f"no channel {name!r}", error_id="unknown-channel") from None
    return web.json_response(_state(windows, name).model_dump())


async def open_channel(request: web.Request) -> web.Response:
    check_admin(request, request.app[CORE_KEY].admin_token)
    windows, name = request.app[WINDOWS], request.match_info["channel"]
    try:
        windows.open(name)
    except UnknownChannel:
        raise NotFound(f"no channel {name!r}", error_id="unknown-channel") from None
    return web.json_response(_state(windows, name).model_dump())


def add_routes(app: web.Application, core: Core) -> None:
    app.router.add_get("/api/v1/events", poll_events)
    app.router.add_post("/api/v1/events", publish_event)
    app.router.add_get("/api/v1/channels", list_channels)
    app.router.add_post("/api/v1/channels/{channel}/close", close_channel)
    app.router.add_post("/api/v1/channels/{channel}/open", open_channel)
    api = core.openapi
    api.add(
        "GET",
        "/api/v1/events",
        summary="Long-poll the events channel (consumer token)",
        parameters=[
            query_param("cursor", {"type": "string"}, "<epoch>.<seq> last applied"),
            query_param("wait", {"type": "integer", "minimum": 0}, "seconds to hold"),
            query_param("limit", {"type": "integer", "minimum": 1}, "max events"),
        ],
        responses={200: EventBatch, 400: None, 401: None, 503: None},
    )
    api.add(
        "POST",
        "/api/v1/events",
        summary="Publish an event (admin token); topic 'call' takes a CallEvent",
        body=PublishRequest,
        responses={201: Published, 400: None, 401: None, 413: None, 503: None},
    )
    api.add(
        "GET",
        "/api/v1/channels",
        summary="Channel windows: open or closed, and why",
        responses={200: ChannelList, 401: None},
    )
    for verb in ("close", "open"):
        api.add(
            "POST",
            f"/api/v1/channels/{{channel}}/{verb}",
            summary=f"{verb.capitalize()} a channel (events | contacts)",
            body=CloseRequest if verb == "close" else None,
            parameters=[
                {
                    "name": "channel",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string", "enum": ["events", "contacts"]},
                }
            ],
            responses={200: ChannelState, 400: None, 401: None, 404: None},
        )


async def _consumer(request: web.Request, registry: ConsumerRegistry) -> Consumer:
    token = bearer_token(request)
    consumer = await registry.authenticate(token) if token else None
    if consumer is None:
        raise Unauthorized("events need 'Authorization: Bearer <consumer token>'")
    return consumer


def _check_open(windows: ChannelWindows, retry_after: int) -> None:
    state = windows.state(EVENTS)
    if not state.open:
        raise ServiceUnavailable(
            f"the events channel is closed: {state.reason}",
            error_id="channel-closed",
            retry_after=retry_after,
            details={"channel": EVENTS, "reason": state.reason},
        )


def _cursor(text: str, *, given: bool) -> Cursor | None:
    if not text:
        return None
    try:
        return Cursor.parse(text)
    except MalformedCursor:
        if not given:
            return None  # a stored cursor from an older format: start at the head
        raise InvalidField(
            "cursor", "not a cursor this service issued", error_id="malformed-cursor"
        ) from None


def _call_event(req: PublishRequest) -> CallEvent:
    try:
        event = CallEvent.model_validate(req.data)
    except ValidationError as exc:
        err = invalid_field(exc)
        raise InvalidField(
            f"data.{err.field}", err.message.split(": ", 1)[-1]
        ) from None
    if req.extensions:
        raise InvalidField("extensions", "a call event's extensions come from it")
    return event


def _extensions(values: list[str]) -> list[str]:
    for value in values:
        if not re.fullmatch(r"[0-9*#]{1,32}", value):
            raise InvalidField("extensions", f"not an extension: {value[:40]!r}")
    return values


def _state(windows: ChannelWindows, name: str) -> ChannelState:
    s = windows.state(name)
    return ChannelState(
        channel=s.channel, open=s.open, reason=s.reason, manual=s.manual
    )
