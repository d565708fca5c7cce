"""Admin API for long-poll consumers (PRODUCT §12).

POST   /api/v1/consumers {name, kind, extension?}   → the token, shown once
GET    /api/v1/consumers                            → with last poll and lag
DELETE /api/v1/consumers/{name}                     → revoke
"""

from __future__ import annotations

from datetime import datetime

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from bridge.core import Core
from bridge.errors import Conflict, InvalidField, NotFound
from bridge.http.auth import check_admin
from bridge.http.bodies import read_model
from bridge.longpoll.consumer_auth import ConsumerKind
from bridge.longpoll.consumers import (
    ConsumerExists,
    ConsumerInfo,
    InvalidConsumer,
    NoSuchConsumer,
)
from bridge.longpoll.cursor import Cursor, LogBounds, MalformedCursor
from bridge.longpoll.events_api import CORE_KEY, HUB, REGISTRY


class AddConsumer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=128)
    kind: ConsumerKind
    extension: str = Field(default="", max_length=32)


class ConsumerCreated(BaseModel):
    name: str
    kind: ConsumerKind
    extension: str
    token: str = Field(description="shown once; only its hash is stored")


class ConsumerView(BaseModel):
    name: str
    kind: ConsumerKind
    extension: str
    created_at: datetime
    last_poll_at: datetime | None
    cursor: str
    lag: int | None = Field(description="events in the log after its cursor")


class ConsumerList(BaseModel):
    consumers: list[ConsumerView]


async def add_consumer(request: web.Request) -> web.Response:
    check_admin(request, request.app[CORE_KEY].admin_token)
    req = await read_model(request, AddConsumer)
    try:
        token = await request.app[REGISTRY].add(req.name, req.kind, req.extension)
    except InvalidConsumer as exc:
        raise InvalidField(exc.field, exc.reason) from None
    except ConsumerExists as exc:
        raise Conflict(str(exc), error_id="consumer-exists") from None
    created = ConsumerCreated(
        name=req.name, kind=req.kind, extension=req.extension, token=token
    )
    return web.json_response(created.model_dump(mode="json"), status=201)


async def list_consumers(request: web.Request) -> web.Response:
    check_admin(request, request.app[CORE_KEY].admin_token)
    infos = await request.app[REGISTRY].list()
    bounds = request.app[HUB].bounds
    views = [_view(info, bounds) for info in infos]
    return web.json_response(ConsumerList(consumers=views).model_dump(mode="json"))


async def revoke_consumer(request: web.Request) -> web.Response:
    check_admin(request, request.app[CORE_KEY].admin_token)
    name = request.match_info["name"]
    try:
        await request.app[REGISTRY].revoke(name)
    except NoSuchConsumer as exc:
        raise NotFound(str(exc), error_id="unknown-consumer") from None
    return web.Response(status=204)


def add_routes(app: web.Application, core: Core) -> None:
    app.router.add_post("/api/v1/consumers", add_consumer)
    app.router.add_get("/api/v1/consumers", list_consumers)
    app.router.add_delete("/api/v1/consumers/{name}", revoke_consumer)
    api = core.openapi
    api.add(
        "POST",
        "/api/v1/consumers",
        summary="Add a long-poll consumer; returns its token once",
        body=AddConsumer,
        responses={201: ConsumerCreated, 400: None, 401: None, 409: None, 413: None},
    )
    api.add(
        "GET",
        "/api/v1/consumers",
        summary="Consumers with their last poll and lag",
        responses={200: ConsumerList, 401: None},
    )
    api.add(
        "DELETE",
        "/api/v1/consumers/{name}",
        summary="Revoke a consumer's token",
        parameters=[
            {
                "name": "name",
                "in": "path",
                "required": True,
                "schema": {"type": "string"},
            }
        ],
        responses={204: None, 401: None, 404: None},
    )


def _view(info: ConsumerInfo, bounds: LogBounds) -> ConsumerView:
    return ConsumerView(
        name=info.consumer.name,
        kind=info.consumer.kind,
        extension=info.consumer.extension,
        created_at=info.created_at,
        last_poll_at=info.last_poll_at,
        cursor=info.cursor,
        lag=_lag(info.cursor, bounds),
    )


def _lag(cursor: str, bounds: LogBounds) -> int | None:
    """Events after the consumer's ack (an upper bound for panels); None: unknown."""
    try:
        at = Cursor.parse(cursor)
    except MalformedCursor:
        return None
    if at.epoch != bounds.epoch:
        return None
    return max(0, bounds.head - at.seq)
